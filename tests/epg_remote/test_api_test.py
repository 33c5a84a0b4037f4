"""POST /api/dispatcharr/test {url, username, password} -> {success, message, epg_sources}."""
import pytest

from epg.remote.models import DispatcharrLink

from .fake_dispatcharr import closed_port_url
from .links import create_link

pytestmark = pytest.mark.django_db

KEYS = {"success", "message", "epg_sources"}
SOURCE_KEYS = {"id", "name", "source_type", "url", "is_active", "status", "last_refresh", "updated_at"}


def body(fake, **kwargs):
    return {"url": fake.url, "username": fake.username, "password": fake.password, **kwargs}


@pytest.mark.parametrize("path", ["/api/dispatcharr/test", "/api/dispatcharr/test/"])
def test_it_lists_the_remote_sources(admin_client_jwt, dispatcharr, path):
    response = admin_client_jwt.post(path, body(dispatcharr), format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert set(data) == KEYS
    assert data["success"] is True
    assert data["message"] == "Connected to Dispatcharr: 3 EPG sources found."
    assert [s["id"] for s in data["epg_sources"]] == [7, 21, 10]
    assert set(data["epg_sources"][1]) == SOURCE_KEYS
    assert data["epg_sources"][1]["url"] == "http://192.168.1.20:8000/output/epg.xml"


def test_wrong_credentials_are_reported_not_raised(admin_client_jwt, dispatcharr):
    response = admin_client_jwt.post("/api/dispatcharr/test", body(dispatcharr, password="nope-nope"), format="json")
    assert response.status_code == 200
    data = response.json()
    assert data["success"] is False and data["epg_sources"] == []
    assert data["message"] == (f"Listing EPG sources on Dispatcharr at {dispatcharr.url}: authentication failed: "
                               "Invalid username or password")


def test_a_cached_token_does_not_let_a_wrong_password_pass(admin_client_jwt, dispatcharr):
    assert admin_client_jwt.post("/api/dispatcharr/test", body(dispatcharr), format="json").json()["success"]
    response = admin_client_jwt.post("/api/dispatcharr/test", body(dispatcharr, password="nope-nope"), format="json")
    assert response.json()["success"] is False


def test_an_unreachable_dispatcharr(admin_client_jwt):
    url = closed_port_url()
    response = admin_client_jwt.post("/api/dispatcharr/test", {"url": url, "username": "a", "password": "b"},
                                     format="json")
    data = response.json()
    assert response.status_code == 200 and data["success"] is False
    assert data["message"].startswith(f"Listing EPG sources on Dispatcharr at {url}: Dispatcharr is unreachable")


def test_the_stored_password_is_used_when_none_is_given(admin_client_jwt, dispatcharr):
    create_link(url=dispatcharr.url, username="admin", password=dispatcharr.password)
    response = admin_client_jwt.post("/api/dispatcharr/test", {"url": dispatcharr.url + "/", "username": "admin"},
                                     format="json")
    assert response.json()["success"] is True


@pytest.mark.parametrize("payload, field, message", [
    ({"url": "ftp://host:21", "username": "a", "password": "b"}, "url",
     "The URL must start with http:// or https://."),
    ({"url": "http://host:70000", "username": "a", "password": "b"}, "url",
     "Enter a valid URL with a port between 1 and 65535."),
    ({"url": "http://host:abc", "username": "a", "password": "b"}, "url",
     "Enter a valid URL with a port between 1 and 65535."),
    ({"url": "http://user:pw@host:9191", "username": "a", "password": "b"}, "url",
     "Put the credentials in username and password, not in the URL."),
    ({"url": "http://host:9191", "username": "", "password": "b"}, "username", "This field may not be blank."),
    ({"url": "http://host:9191", "username": "a", "password": ""}, "password", "This field is required."),
    ({"username": "a", "password": "b"}, "url", "This field is required."),
])
def test_invalid_input_is_a_400_in_the_detail_dialect(admin_client_jwt, payload, field, message):
    response = admin_client_jwt.post("/api/dispatcharr/test", payload, format="json")
    assert response.status_code == 400
    assert response.json() == {field: [message]}


def test_it_needs_credentials_and_a_staff_user(api_client, django_user_model, dispatcharr):
    response = api_client.post("/api/dispatcharr/test", body(dispatcharr), format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    django_user_model.objects.create_user("viewer", password="viewer-pass-1")
    api_client.force_authenticate(django_user_model.objects.get(username="viewer"))
    response = api_client.post("/api/dispatcharr/test", body(dispatcharr), format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}
    assert dispatcharr.server.calls == []
