"""The plex mode: X-Plex-Token from the Service's key plus this install's client identity, to a Plex server
and to plex.tv."""
import uuid

import pytest

from integrations.auth.plex import PLEX_VERSION, plex_tv_client
from integrations.client import APIError, GenericAPIClient
from integrations.models import Service

TOKEN = "plex-token-0123456789"


def plex_server(srv):
    @srv.route("GET", "/identity")
    def identity(call):
        return 200, {"MediaContainer": {"machineIdentifier": "abc"}}

    @srv.route("GET", "/library/sections")
    def sections(call):
        if call.headers.get("x-plex-token") != TOKEN:
            return 401, "<html><head><title>Unauthorized</title></head></html>"
        return 200, {"MediaContainer": {"Directory": [{"key": "1", "title": "Movies"}]}}

    return srv


def test_a_server_gets_the_token_and_the_client_identity(fake_server, settings):
    settings.PLEX_CLIENT_IDENTIFIER = "install-id-1"
    settings.PLEX_PRODUCT = "homelab-test"
    srv = plex_server(fake_server())
    client = GenericAPIClient(srv.url, api_key=TOKEN, auth_type="plex")
    assert client.get("/library/sections")["MediaContainer"]["Directory"][0]["title"] == "Movies"
    headers = srv.calls[-1].headers
    assert headers["x-plex-token"] == TOKEN
    assert headers["x-plex-client-identifier"] == "install-id-1"
    assert headers["x-plex-product"] == "homelab-test"
    assert headers["x-plex-version"] == PLEX_VERSION
    assert "json" in headers["accept"]  # Plex answers XML unless asked for JSON


def test_a_wrong_token_is_an_auth_error_without_the_token(fake_server):
    srv = plex_server(fake_server())
    with pytest.raises(APIError) as err:
        GenericAPIClient(srv.url, api_key="wrong-plex-token-1", auth_type="plex").get("/library/sections")
    assert err.value.status == 401 and "wrong-plex-token-1" not in str(err.value) + err.value.body


def test_plex_tv_gets_the_same_identity_and_a_pin_needs_no_token(fake_server, settings):
    srv = fake_server()
    settings.PLEX_TV_URL = srv.url

    @srv.route("POST", "/api/v2/pins")
    def pins(call):
        if not call.headers.get("x-plex-client-identifier") or not call.headers.get("x-plex-product"):
            return 400, {"errors": [{"code": 1000, "message": "X-Plex-Client-Identifier is missing"}]}
        return 201, {"id": 7, "code": "ABCD1234", "authToken": None}

    @srv.route("GET", "/api/v2/user")
    def user(call):
        return (200, {"username": "me"}) if call.headers.get("x-plex-token") == TOKEN else (401, {"errors": []})

    assert plex_tv_client().post("/api/v2/pins", data={"strong": True})["code"] == "ABCD1234"
    assert "x-plex-token" not in srv.calls[-1].headers
    assert plex_tv_client(TOKEN).get("/api/v2/user") == {"username": "me"}


@pytest.mark.django_db
def test_a_plex_service_row_uses_the_mode(fake_server):
    srv = plex_server(fake_server())
    service = Service.objects.create(name="plex", api_url=srv.url, api_key=TOKEN, service_type="plex")
    client = GenericAPIClient.for_service(service)
    assert client.auth_type == "plex"
    assert client.get("/library/sections")["MediaContainer"]["Directory"][0]["key"] == "1"


def test_the_client_identifier_is_generated_once_into_the_data_dir(tmp_path, monkeypatch):
    import importlib
    import sys

    monkeypatch.setenv("HOMELAB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PLEX_CLIENT_IDENTIFIER", raising=False)
    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    saved = sys.modules.pop("homelab.settings")
    try:
        first = importlib.import_module("homelab.settings").PLEX_CLIENT_IDENTIFIER
        sys.modules.pop("homelab.settings")
        second = importlib.import_module("homelab.settings").PLEX_CLIENT_IDENTIFIER
    finally:
        sys.modules["homelab.settings"] = saved
    assert str(uuid.UUID(first)) == first and second == first
    assert (tmp_path / "plex_client_identifier").read_text().strip() == first
