"""GET/PUT /api/dispatcharr/settings: the first Dispatcharr link, password write-only, credentials checked."""
import pytest

from epg.remote.models import DispatcharrLink

from .fake_dispatcharr import closed_port_url
from .links import create_link

pytestmark = pytest.mark.django_db

KEYS = {"id", "enabled", "url", "username", "password_set", "verify_tls", "output_filename", "epg_id", "epg_name",
        "last_sync", "last_result", "last_message", "auth_failures"}


def body(fake, **kwargs):
    return {"enabled": True, "url": fake.url, "username": fake.username, "password": fake.password, **kwargs}


def test_get_before_anything_is_saved(admin_client_jwt):
    response = admin_client_jwt.get("/api/dispatcharr/settings")
    assert response.status_code == 200
    assert response.json() == {"id": None, "enabled": False, "url": "", "username": "", "password_set": False,
                               "verify_tls": True, "output_filename": "epg.xml", "epg_id": None, "epg_name": "",
                               "last_sync": None, "last_result": "", "last_message": "", "auth_failures": 0}


@pytest.mark.parametrize("path", ["/api/dispatcharr/settings", "/api/dispatcharr/settings/"])
def test_put_checks_the_credentials_discovers_the_source_and_saves(admin_client_jwt, dispatcharr, path):
    response = admin_client_jwt.put(path, body(dispatcharr, url=dispatcharr.url + "/"), format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert set(data) == KEYS and "password" not in data
    assert data["enabled"] is True and data["url"] == dispatcharr.url and data["password_set"] is True
    assert (data["epg_id"], data["epg_name"]) == (21, "_Teamarr - Detroit Sports")
    link = DispatcharrLink.objects.get()
    assert link.password == dispatcharr.password and link.epg_id == 21
    assert admin_client_jwt.get(path).json() == data
    assert dispatcharr.logins == 1


def test_the_password_is_encrypted_at_rest_on_a_manual_dispatcharr_service(admin_client_jwt, dispatcharr):
    from django.db import connection

    admin_client_jwt.put("/api/dispatcharr/settings", body(dispatcharr), format="json")
    service = DispatcharrLink.objects.get().service
    assert (service.source, service.service_type, service.api_url, service.api_username) == (
        "manual", "dispatcharr", dispatcharr.url, dispatcharr.username)
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_password FROM integrations_service WHERE id = %s", [service.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("gAAAAA") and dispatcharr.password not in stored


def test_a_rejected_login_saves_nothing(admin_client_jwt, dispatcharr):
    response = admin_client_jwt.put("/api/dispatcharr/settings", body(dispatcharr, password="bad-pass-1"),
                                    format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": f"Settings not saved: Listing EPG sources on Dispatcharr at "
                                         f"{dispatcharr.url}: authentication failed: Invalid username or password"}
    assert not DispatcharrLink.objects.exists()


def test_an_unreachable_dispatcharr_is_not_saved_enabled(admin_client_jwt):
    url = closed_port_url()
    response = admin_client_jwt.put("/api/dispatcharr/settings",
                                    {"enabled": True, "url": url, "username": "a", "password": "b"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"Settings not saved: Listing EPG sources on Dispatcharr at {url}: "
                                                "Dispatcharr is unreachable")


def test_an_explicit_epg_id_is_checked(admin_client_jwt, dispatcharr):
    response = admin_client_jwt.put("/api/dispatcharr/settings", body(dispatcharr, epg_id=99), format="json")
    assert response.status_code == 400
    assert response.json() == {"epg_id": ["Dispatcharr has no EPG source with id 99."]}
    response = admin_client_jwt.put("/api/dispatcharr/settings", body(dispatcharr, epg_id=10), format="json")
    assert response.json() == {"epg_id": ["EPG source 10 ('_Dummy - Infinity All Sports US') is a dummy source; "
                                          "Dispatcharr does not refresh dummy sources."]}
    response = admin_client_jwt.put("/api/dispatcharr/settings", body(dispatcharr, epg_id=7), format="json")
    assert response.status_code == 200
    assert (response.json()["epg_id"], response.json()["epg_name"]) == (7, "@Provider EPG - MSX")


@pytest.mark.parametrize("change, field, message", [
    ({"epg_id": "twenty-one"}, "epg_id", "A valid integer is required."),
    ({"epg_id": 1.5}, "epg_id", "A valid integer is required."),
    ({"url": "dispatcharr:9191"}, "url", "The URL must start with http:// or https://."),
    ({"url": "https://dispatcharr:99999"}, "url", "Enter a valid URL with a port between 1 and 65535."),
    ({"username": ""}, "username", "This field may not be blank."),
    ({"password": ""}, "password", "This field is required."),
])
def test_invalid_settings_are_refused(admin_client_jwt, dispatcharr, change, field, message):
    response = admin_client_jwt.put("/api/dispatcharr/settings", body(dispatcharr, **change), format="json")
    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert not DispatcharrLink.objects.exists()


def test_the_password_is_write_only_and_kept_when_left_out(admin_client_jwt, dispatcharr):
    admin_client_jwt.put("/api/dispatcharr/settings", body(dispatcharr), format="json")
    response = admin_client_jwt.put("/api/dispatcharr/settings", {"enabled": False, "password": ""}, format="json")
    assert response.status_code == 200
    assert response.json()["password_set"] is True and response.json()["enabled"] is False
    link = DispatcharrLink.objects.get()
    assert link.password == dispatcharr.password
    assert dispatcharr.password not in response.content.decode()


def test_disabling_does_not_need_the_remote(admin_client_jwt, dispatcharr):
    admin_client_jwt.put("/api/dispatcharr/settings", body(dispatcharr), format="json")
    dispatcharr.api_status = 500
    response = admin_client_jwt.put("/api/dispatcharr/settings", {"enabled": False}, format="json")
    assert response.status_code == 200 and response.json()["enabled"] is False


def test_enabling_again_resets_the_authentication_failures(admin_client_jwt, dispatcharr):
    create_link(enabled=False, url=dispatcharr.url, username="admin", password=dispatcharr.password,
                                   epg_id=21, auth_failures=3, last_result="disabled")
    response = admin_client_jwt.put("/api/dispatcharr/settings", {"enabled": True}, format="json")
    assert response.status_code == 200
    assert response.json()["auth_failures"] == 0 and response.json()["enabled"] is True


def test_settings_edit_the_first_link_only(admin_client_jwt, dispatcharr):
    first = create_link(url=dispatcharr.url, username="admin", password=dispatcharr.password)
    create_link(url="http://other:9191", username="admin", password="x-other-pass")
    response = admin_client_jwt.put("/api/dispatcharr/settings", {"output_filename": "guide.xml"}, format="json")
    assert response.status_code == 200 and response.json()["id"] == first.pk
    response = admin_client_jwt.put("/api/dispatcharr/settings", {"url": "http://other:9191"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"url": ["Another Dispatcharr link already uses this URL and username."]}


def test_put_needs_a_staff_user(api_client, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="viewer-pass-1")
    api_client.force_authenticate(viewer)
    assert api_client.get("/api/dispatcharr/settings").status_code == 200
    response = api_client.put("/api/dispatcharr/settings", {"enabled": False}, format="json")
    assert response.status_code == 403


def test_unknown_paths_answer_404_in_the_detail_dialect(admin_client_jwt):
    response = admin_client_jwt.get("/api/dispatcharr/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_push_ending_while_the_settings_are_checked_keeps_its_outcome(admin_client_jwt, dispatcharr, monkeypatch):
    """PUT checks the credentials against the remote (seconds); a push that ends meanwhile writes its outcome and
    frees its claim. Saving the settings must not put back the values read before the check."""
    from datetime import datetime, timezone

    from django.utils import timezone as djtz

    from epg.remote import services

    assert admin_client_jwt.put("/api/dispatcharr/settings", body(dispatcharr), format="json").status_code == 200
    link = DispatcharrLink.objects.get()
    DispatcharrLink.objects.filter(pk=link.pk).update(pushing_since=djtz.now(), last_result="running")
    ended = datetime(2030, 1, 1, tzinfo=timezone.utc)
    original = services.check_settings

    def check(link):
        original(link)
        DispatcharrLink.objects.filter(pk=link.pk).update(  # the push task, in the worker, meanwhile
            pushing_since=None, push_pending=False, last_result="success", last_sync=ended,
            last_message="EPG refresh success in 2.0s", last_duration=2.0)

    monkeypatch.setattr(services, "check_settings", check)
    response = admin_client_jwt.put("/api/dispatcharr/settings", body(dispatcharr, name="x", verify_tls=False),
                                    format="json")
    assert response.status_code == 200, response.content
    row = DispatcharrLink.objects.get()
    assert row.verify_tls is False
    assert (row.pushing_since, row.last_result, row.last_sync, row.last_duration) == (None, "success", ended, 2.0)
    assert response.json()["last_result"] == "success" and response.json()["last_sync"] == "2030-01-01T00:00:00Z"
