"""POST /api/dispatcharr/discover {url, username, password, filename} -> {success, epg_id, epg_name, message}."""
import pytest

pytestmark = pytest.mark.django_db

KEYS = {"success", "epg_id", "epg_name", "message"}


def body(fake, **kwargs):
    return {"url": fake.url, "username": fake.username, "password": fake.password, **kwargs}


@pytest.mark.parametrize("path", ["/api/dispatcharr/discover", "/api/dispatcharr/discover/"])
def test_it_finds_the_source_by_file_name(admin_client_jwt, dispatcharr, path):
    response = admin_client_jwt.post(path, body(dispatcharr, filename="epg.xml"), format="json")
    assert response.status_code == 200
    assert response.json() == {"success": True, "epg_id": 21, "epg_name": "_Teamarr - Detroit Sports",
                               "message": "Found EPG source '_Teamarr - Detroit Sports' (id 21) for epg.xml."}


def test_the_file_name_defaults_to_epg_xml_and_may_be_a_full_url(admin_client_jwt, dispatcharr):
    assert admin_client_jwt.post("/api/dispatcharr/discover", body(dispatcharr),
                                 format="json").json()["epg_id"] == 21
    response = admin_client_jwt.post(
        "/api/dispatcharr/discover", body(dispatcharr, filename="http://homelab.lan:8000/output/epg.xml"),
        format="json")
    assert response.json()["epg_id"] == 21


def test_no_match(admin_client_jwt, dispatcharr):
    response = admin_client_jwt.post("/api/dispatcharr/discover", body(dispatcharr, filename="teamarr.xml"),
                                     format="json")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == KEYS
    assert data == {"success": False, "epg_id": None, "epg_name": None,
                    "message": "No URL EPG source on Dispatcharr has a URL ending in 'teamarr.xml'. Add this "
                               "project's guide URL (…/output/teamarr.xml) as an EPG source there, then try again."}


def test_a_remote_failure(admin_client_jwt, dispatcharr):
    dispatcharr.api_status = 403
    data = admin_client_jwt.post("/api/dispatcharr/discover", body(dispatcharr), format="json").json()
    assert set(data) == KEYS and data["success"] is False and data["epg_id"] is None
    assert "forbidden (HTTP 403)" in data["message"]


def test_invalid_input(admin_client_jwt):
    response = admin_client_jwt.post("/api/dispatcharr/discover", {"url": "http://h:0", "username": "a",
                                                                   "password": "b"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"url": ["Enter a valid URL with a port between 1 and 65535."]}
