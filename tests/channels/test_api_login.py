"""POST /iptv/login: one player_api.php call checks the account; it becomes the default provider."""
import pytest
from django.db import connection

from channels.models import Provider

pytestmark = pytest.mark.django_db


def login(client, **body):
    return client.post("/iptv/login", body, format="json")


def test_a_good_account_becomes_the_default_provider_and_starts_a_refresh(admin_client_jwt, panel,
                                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        r = login(admin_client_jwt, host=panel.url, username="alice", password="secret-pass")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body == {"message": "Login successful", "host": panel.url, "username": "alice", "provider": "default",
                    "refresh": "started"}
    assert "secret-pass" not in r.content.decode()
    assert len(callbacks) == 1  # the refresh task, queued after commit
    provider = Provider.objects.get(is_default=True)
    assert provider.status == "fetching"
    service = provider.service
    assert (service.source, service.service_type, service.api_url, service.api_username) == (
        "manual", "xtream", panel.url, "alice")
    assert service.api_password == "secret-pass"
    with connection.cursor() as cur:
        cur.execute("SELECT api_password FROM integrations_service WHERE id = %s", [service.pk])
        raw = cur.fetchone()[0]
    assert "secret-pass" not in raw  # encrypted at rest
    assert len(panel.calls_to("/player_api.php")) == 1


def test_a_second_login_updates_the_same_provider(admin_client_jwt, panel, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        login(admin_client_jwt, host=panel.url, username="alice", password="secret-pass")
    first = Provider.objects.get(is_default=True)
    Provider.objects.filter(pk=first.pk).update(status="success")
    panel.set_password("alice", "other-pass-2")
    with django_capture_on_commit_callbacks():
        r = login(admin_client_jwt, host=panel.url + "/", username="alice", password="other-pass-2")
    assert r.status_code == 200
    assert Provider.objects.count() == 1 and Provider.objects.get().pk == first.pk
    assert Provider.objects.get().service.api_password == "other-pass-2"


def test_wrong_credentials_are_401_and_change_nothing(admin_client_jwt, panel):
    r = login(admin_client_jwt, host=panel.url, username="alice", password="wrong-one")
    assert r.status_code == 401
    assert set(r.json()) == {"detail"} and "refused" in r.json()["detail"]
    assert not Provider.objects.exists()


def test_an_unreachable_provider_is_502(admin_client_jwt):
    from tests.live import free_port

    r = login(admin_client_jwt, host=f"http://127.0.0.1:{free_port()}", username="a", password="b")
    detail = r.json()["detail"]
    assert r.status_code == 502 and detail.startswith("Could not reach the IPTV provider: GET http") and "refused" in detail


def test_a_panel_answering_html_is_502(admin_client_jwt, panel):
    panel.modes["account"] = "html"
    r = login(admin_client_jwt, host=panel.url, username="alice", password="secret-pass")
    assert r.status_code == 502 and "did not answer JSON" in r.json()["detail"]


@pytest.mark.parametrize("body, errors", [
    ({}, [(["body", "host"], "Field required", "missing"), (["body", "username"], "Field required", "missing"),
          (["body", "password"], "Field required", "missing")]),
    ({"host": 5, "username": "a", "password": None},
     [(["body", "host"], "Input should be a valid string", "string_type"),
      (["body", "password"], "Input should be a valid string", "string_type")]),
    ({"host": "http://panel.example", "username": "a\x00", "password": "b" * 501},
     [(["body", "username"], "String should not contain NUL characters", "string_pattern_mismatch"),
      (["body", "password"], "String should have at most 500 characters", "string_too_long")]),
    ({"host": "ftp://x", "username": "a", "password": "b"},
     [(["body", "host"], "Enter the provider's URL, e.g. http://provider.example:8080", "url_parsing")]),
])
def test_invalid_bodies_are_422(admin_client_jwt, body, errors):
    r = login(admin_client_jwt, **body)
    assert r.status_code == 422
    assert r.json() == {"detail": [{"loc": loc, "msg": msg, "type": t} for loc, msg, t in errors]}


def test_a_body_that_is_not_json_is_422(admin_client_jwt):
    r = admin_client_jwt.post("/iptv/login", "{not json", content_type="application/json")
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "json_invalid"


def test_login_needs_a_credential(api_client, panel):
    r = login(api_client, host=panel.url, username="alice", password="secret-pass")
    assert r.status_code == 401 and not panel.calls


def test_refresh_without_a_provider_is_404(admin_client_jwt):
    r = admin_client_jwt.post("/iptv/refresh")
    assert r.status_code == 404 and "POST /iptv/login" in r.json()["detail"]


def test_logins_are_limited_per_client(admin_client_jwt, panel, settings):
    settings.IPTV_LOGIN_RATE = "2/min"
    for _ in range(2):
        assert login(admin_client_jwt, host=panel.url, username="alice", password="wrong-one").status_code == 401
    r = login(admin_client_jwt, host=panel.url, username="alice", password="secret-pass")
    assert r.status_code == 429 and set(r.json()) == {"detail"}
    assert len(panel.calls_to("/player_api.php")) == 2


def test_the_schema_lets_a_loc_name_a_position(admin_client_jwt):
    """FastAPI's loc mixes names and positions (["body", 0] for a body that is not JSON): the schema allows both."""
    body = admin_client_jwt.post("/iptv/login", data=b"\x00not json", content_type="application/json").json()
    assert body["detail"][0]["loc"] == ["body", 0]
    schema = admin_client_jwt.get("/api/schema/?format=json").json()
    loc = schema["components"]["schemas"]["ValidationItem"]["properties"]["loc"]["items"]
    assert {"type": "integer"} in loc["oneOf"]
