"""Defect 6: credentials inside an EPG source URL (``?username=&password=``, ``http://user:pw@host``) were stored
in plaintext and shown to non-staff users. Stored encrypted, shown masked to everyone but staff, masked in logs."""
import importlib
import logging

import pytest
from django.db import connection

from epg.models import EPGSource
from homelab import crypto
from homelab.http import mask_url

pytestmark = pytest.mark.django_db

XTREAM = "http://panel.example:8080/xmltv.php?username=alice-user&password=Hunter2-secret&type=m3u"
USERINFO = "https://bob:Sw0rdfish-pw@guide.example/epg.xml.gz"


@pytest.fixture
def user_client(django_user_model):
    from rest_framework.test import APIClient

    api_client = APIClient()  # not the admin's (the api_client fixture is one client)
    django_user_model.objects.create_user("viewer", password="viewer-pass-1")
    r = api_client.post("/api/accounts/token/", {"username": "viewer", "password": "viewer-pass-1"}, format="json")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['access']}")
    return api_client


def stored_url(pk) -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT url FROM epg_epgsource WHERE id = %s", [pk])
        return cur.fetchone()[0]


@pytest.mark.parametrize("url, masked", [
    (XTREAM, "http://panel.example:8080/xmltv.php?username=****&password=****&type=m3u"),
    (USERINFO, "https://****@guide.example/epg.xml.gz"),
    ("http://guide.example/epg.xml?token=abc123&api_key=k&apikey=k2&key=k3&secret=s&days=7",
     "http://guide.example/epg.xml?token=****&api_key=****&apikey=****&key=****&secret=****&days=7"),
    ("http://guide.example/epg.xml", "http://guide.example/epg.xml"),
    ("http://[::1]:8000/epg.xml?pass=x", "http://[::1]:8000/epg.xml?pass=****"),
    ("", ""),
])
def test_mask_url_hides_userinfo_and_secret_query_values(url, masked):
    assert mask_url(url) == masked


def test_the_url_is_stored_encrypted_and_read_back_plain(admin_client_jwt):
    r = admin_client_jwt.post("/api/epg/sources/", {"name": "X", "url": XTREAM}, format="json")
    assert r.status_code == 201 and r.json()["url"] == XTREAM  # staff see what they typed
    raw = stored_url(r.json()["id"])
    assert "Hunter2" not in raw and "alice" not in raw and raw.startswith("gAAAAA")
    assert EPGSource.objects.get(pk=r.json()["id"]).url == XTREAM


def test_non_staff_users_see_the_url_masked_with_the_same_keys(admin_client_jwt, user_client):
    source = EPGSource.objects.create(name="X", url=XTREAM)
    EPGSource.objects.create(name="U", url=USERINFO)
    staff = admin_client_jwt.get(f"/api/epg/sources/{source.pk}/").json()
    viewer = user_client.get(f"/api/epg/sources/{source.pk}/").json()
    assert set(viewer) == set(staff)
    assert staff["url"] == XTREAM
    assert viewer["url"] == "http://panel.example:8080/xmltv.php?username=****&password=****&type=m3u"
    listed = user_client.get("/api/epg/sources/")
    body = listed.content.decode()
    assert "Hunter2" not in body and "alice-user" not in body and "Sw0rdfish" not in body and "bob:" not in body
    assert {row["url"] for row in listed.json()} == {
        "http://panel.example:8080/xmltv.php?username=****&password=****&type=m3u",
        "https://****@guide.example/epg.xml.gz"}


def test_the_secrets_of_a_stored_url_are_masked_in_logs(caplog):
    from homelab.logging import MaskSecretsFilter

    source = EPGSource.objects.create(name="X", url=USERINFO)
    EPGSource.objects.get(pk=source.pk)  # read back, as a worker would
    logger = logging.getLogger("epg.test")
    logger.addFilter(MaskSecretsFilter())
    try:
        with caplog.at_level(logging.INFO, logger="epg.test"):
            logger.info("fetching %s (user %s)", source.url, "bob")
            logger.info("the panel said: wrong password Sw0rdfish-pw for alice-user")
    finally:
        logger.filters.clear()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "Sw0rdfish-pw" not in text and "Hunter2" not in text
    EPGSource.objects.create(name="Y", url=XTREAM)
    from homelab.logging import mask

    assert "Hunter2-secret" not in mask(f"GET {XTREAM}") and "alice-user" not in mask("user alice-user")


def test_the_migration_encrypts_urls_stored_in_plaintext():
    migration = importlib.import_module("epg.migrations.0009_source_url_encrypted")
    source = EPGSource.objects.create(name="Old", url="http://placeholder.example/x.xml")
    with connection.cursor() as cur:
        cur.execute("UPDATE epg_epgsource SET url = %s WHERE id = %s", [XTREAM, source.pk])
    migration.encrypt_urls(None, connection.schema_editor())
    raw = stored_url(source.pk)
    assert raw.startswith("gAAAAA") and crypto.decrypt(raw) == XTREAM
    migration.encrypt_urls(None, connection.schema_editor())  # a second run leaves it alone
    assert crypto.decrypt(stored_url(source.pk)) == XTREAM
    migration.decrypt_urls(None, connection.schema_editor())
    assert stored_url(source.pk) == XTREAM
