"""X-API-Key: hashed at rest, shown once, last_used_at, inactive keys refused."""
import hashlib
from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from homelab.models import APIKey

pytestmark = pytest.mark.django_db


def test_create_api_key_prints_a_key_that_authenticates(api_client, admin_user):
    out = StringIO()
    call_command("create_api_key", "scripts", stdout=out, stderr=StringIO())
    raw = out.getvalue().strip()
    assert len(raw) >= 43  # 32 random bytes, URL-safe base64
    response = api_client.get("/api/accounts/me/", HTTP_X_API_KEY=raw)
    assert response.status_code == 200
    assert response.json()["credential"] == "api_key"
    assert response.json()["username"] == "admin"


def test_only_the_sha256_of_the_key_is_stored(admin_user):
    key, raw = APIKey.generate(name="k", user=admin_user)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM homelab_apikey WHERE id = %s", [key.pk])
        row = cursor.fetchone()
    assert not any(raw in str(value) for value in row)
    assert hashlib.sha256(raw.encode()).hexdigest() in row


def test_a_wrong_key_is_refused(api_client, admin_user):
    APIKey.generate(name="k", user=admin_user)
    response = api_client.get("/api/accounts/me/", HTTP_X_API_KEY="not-a-key")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid API key."}


def test_an_inactive_key_is_refused(api_client, admin_user):
    key, raw = APIKey.generate(name="k", user=admin_user)
    key.revoke()
    assert api_client.get("/api/accounts/me/", HTTP_X_API_KEY=raw).status_code == 401


def test_a_key_of_an_inactive_user_is_refused(api_client, admin_user):
    key, raw = APIKey.generate(name="k", user=admin_user)
    admin_user.is_active = False
    admin_user.save()
    assert api_client.get("/api/accounts/me/", HTTP_X_API_KEY=raw).status_code == 401


def test_last_used_at_is_recorded_at_most_once_a_minute(api_client, admin_user, clock):
    key, raw = APIKey.generate(name="k", user=admin_user)
    assert key.last_used_at is None
    api_client.get("/api/accounts/me/", HTTP_X_API_KEY=raw)
    key.refresh_from_db()
    start = key.last_used_at
    assert start is not None and abs((start - clock.now()).total_seconds()) < 5

    clock.travel(30)
    api_client.get("/api/accounts/me/", HTTP_X_API_KEY=raw)
    key.refresh_from_db()
    assert key.last_used_at == start

    clock.travel(31)
    api_client.get("/api/accounts/me/", HTTP_X_API_KEY=raw)
    key.refresh_from_db()
    assert (key.last_used_at - start).total_seconds() >= 61


def test_the_admin_shows_a_new_key_once(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/admin/homelab/apikey/add/", {"name": "from-admin", "is_active": "on"}, follow=True)
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    shown = [m for m in messages if "will not be shown again" in m]
    assert len(shown) == 1
    raw = shown[0].split("<code>")[1].split("</code>")[0]
    key = APIKey.objects.get(name="from-admin")
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert key.created_by == admin_user
    change_page = client.get(f"/admin/homelab/apikey/{key.pk}/change/").content.decode()
    assert raw not in change_page


def test_the_admin_revokes_keys(client, admin_user):
    key, raw = APIKey.generate(name="k", user=admin_user)
    client.force_login(admin_user)
    client.post("/admin/homelab/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.is_active is False
