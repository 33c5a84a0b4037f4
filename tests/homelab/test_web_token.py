"""The web token: X-Auth-Token or a non-JWT Bearer value; from WEB_AUTH_TOKEN or generated once."""
import logging

import pytest
from django.db import connection
from django.test import override_settings

from homelab.models import SiteSecret
from homelab.webtoken import get_web_token

pytestmark = pytest.mark.django_db


@override_settings(WEB_AUTH_TOKEN="env-token-123456")
def test_the_env_token_is_accepted_as_x_auth_token(api_client):
    response = api_client.get("/api/accounts/me/", HTTP_X_AUTH_TOKEN="env-token-123456")
    assert response.status_code == 200
    assert response.json()["credential"] == "web_token"


@override_settings(WEB_AUTH_TOKEN="env-token-123456")
def test_the_env_token_is_accepted_as_a_bearer_value(api_client):
    response = api_client.get("/api/accounts/me/", HTTP_AUTHORIZATION="Bearer env-token-123456")
    assert response.status_code == 200
    assert response.json()["credential"] == "web_token"


@override_settings(WEB_AUTH_TOKEN="env-token-123456")
def test_a_wrong_web_token_is_refused(api_client):
    assert api_client.get("/api/accounts/me/", HTTP_X_AUTH_TOKEN="env-token-654321").status_code == 401
    assert api_client.get("/api/accounts/me/", HTTP_AUTHORIZATION="Bearer nope").status_code == 401


@override_settings(WEB_AUTH_TOKEN="env-token-123456")
def test_the_env_token_is_not_stored():
    assert get_web_token() == "env-token-123456"
    assert not SiteSecret.objects.exists()


def test_a_token_is_generated_once_logged_once_and_stored_encrypted(api_client, caplog):
    caplog.set_level(logging.INFO, logger="homelab.auth")
    token = get_web_token()
    assert len(token) >= 24
    assert [r.getMessage() for r in caplog.records].count(
        f"Generated a web token; it is shown this once. Token: {token}") == 1
    assert get_web_token() == token
    assert sum("Token:" in r.getMessage() for r in caplog.records) == 1

    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM homelab_sitesecret WHERE name = %s", [SiteSecret.WEB_TOKEN])
        (stored,) = cursor.fetchone()
    assert token not in stored
    assert stored.startswith("gAAAA")

    response = api_client.get("/api/accounts/me/", HTTP_X_AUTH_TOKEN=token)
    assert response.status_code == 200


def test_no_credentials_is_401_with_a_www_authenticate_header(api_client):
    response = api_client.get("/api/accounts/me/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_session_cookie_authenticates(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/api/accounts/me/")
    assert response.status_code == 200
    assert response.json()["credential"] == "session"


def test_the_admin_regenerates_the_web_token_and_shows_it_once(client, admin_user, api_client):
    old = get_web_token()
    client.force_login(admin_user)
    row = SiteSecret.objects.get(name=SiteSecret.WEB_TOKEN)
    listing = client.get("/admin/homelab/sitesecret/").content.decode()
    assert old not in listing and "****" in listing
    response = client.post("/admin/homelab/sitesecret/", {"action": "regenerate", "_selected_action": [row.pk]},
                           follow=True)
    shown = [str(m) for m in response.context["messages"] if "will not be shown again" in str(m)]
    assert len(shown) == 1
    new = shown[0].split("<code>")[1].split("</code>")[0]
    assert new != old and get_web_token() == new
    assert api_client.get("/api/accounts/me/", HTTP_X_AUTH_TOKEN=old).status_code == 401
    assert api_client.get("/api/accounts/me/", HTTP_X_AUTH_TOKEN=new).status_code == 200


@override_settings(WEB_AUTH_TOKEN="env-token-123456")
def test_an_env_controlled_token_is_not_regenerated(client, admin_user):
    row = SiteSecret.objects.create(name=SiteSecret.WEB_TOKEN, value="stored-token-xyz")
    client.force_login(admin_user)
    response = client.post("/admin/homelab/sitesecret/", {"action": "regenerate", "_selected_action": [row.pk]},
                           follow=True)
    assert any("WEB_AUTH_TOKEN" in str(m) for m in response.context["messages"])
    assert SiteSecret.objects.get(pk=row.pk).value == "stored-token-xyz"
