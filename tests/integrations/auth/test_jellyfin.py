"""The jellyfin and emby modes: a key or a login's token as MediaBrowser Token and X-Emby-Token; the
username/password login at AuthenticateByName."""
import pytest

from integrations.client import AuthError, GenericAPIClient
from integrations.models import Service
from tests.integrations.upstreams import PASSWORD, USER

KEY = "jf-key-0123456789"


def media_server(srv, prefix=""):
    tokens = {KEY}
    state = {"logins": 0}

    @srv.route("POST", f"{prefix}/Users/AuthenticateByName")
    def login(call):
        assert 'Client="homelab"' in call.headers.get("authorization", "")
        if call.json() != {"Username": USER, "Pw": PASSWORD}:
            return 401, "Error processing request."
        state["logins"] += 1
        token = f"jf-access-{state['logins']:06d}"
        tokens.add(token)
        return 200, {"AccessToken": token, "User": {"Id": "u1"}}

    @srv.route("GET", f"{prefix}/System/Info")
    def info(call):
        token = call.headers.get("x-emby-token")
        if token not in tokens or call.headers.get("authorization") != f'MediaBrowser Token="{token}"':
            return 401, ""
        return 200, {"Version": "10.10.3"}

    state["tokens"] = tokens
    return srv, state


@pytest.mark.parametrize("mode", ["jellyfin", "emby"])
def test_a_key_goes_as_mediabrowser_token_and_x_emby_token(fake_server, mode):
    srv, _ = media_server(fake_server())
    assert GenericAPIClient(srv.url, api_key=KEY, auth_type=mode).get("/System/Info") == {"Version": "10.10.3"}
    headers = srv.calls[-1].headers
    assert headers["authorization"] == f'MediaBrowser Token="{KEY}"' and headers["x-emby-token"] == KEY


@pytest.mark.parametrize("mode", ["jellyfin", "emby"])
def test_a_login_is_shared_and_renewed_when_the_token_is_revoked(fake_server, mode):
    srv, state = media_server(fake_server())
    for _ in range(2):
        client = GenericAPIClient(srv.url, username=USER, password=PASSWORD, auth_type=mode)
        assert client.get("/System/Info")["Version"] == "10.10.3"
    assert state["logins"] == 1
    state["tokens"].discard("jf-access-000001")
    assert client.get("/System/Info")["Version"] == "10.10.3"
    assert state["logins"] == 2


def test_a_wrong_password_is_an_auth_error(fake_server):
    srv, _ = media_server(fake_server())
    with pytest.raises(AuthError, match="Invalid username or password"):
        GenericAPIClient(srv.url, username=USER, password="wrong-pass-12", auth_type="jellyfin").get("/System/Info")


@pytest.mark.django_db
def test_an_emby_service_logs_in_under_emby(fake_server):
    srv, state = media_server(fake_server(), prefix="/emby")
    service = Service.objects.create(name="emby", api_url=srv.url, service_type="emby", api_username=USER,
                                     api_password=PASSWORD)
    client = GenericAPIClient.for_service(service)
    assert client.auth_type == "emby"
    assert client.get("/emby/System/Info")["Version"] == "10.10.3"
    assert state["logins"] == 1
