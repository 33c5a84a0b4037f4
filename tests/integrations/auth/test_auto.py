"""The auto mode (auth_type None): picks a mode from what is given."""
from integrations.client import GenericAPIClient
from tests.integrations import upstreams
from tests.integrations.upstreams import PASSWORD, USER


def test_auto_mode_finds_a_cookie_login(fake_server):
    srv = fake_server()
    qbt = upstreams.QBittorrent(srv)
    client = GenericAPIClient(srv.url, username=USER, password=PASSWORD, auth_endpoint="/api/v2/auth/login")
    assert client.get("/api/v2/torrents/info")[0]["name"] == "ubuntu.iso"
    assert qbt.logins == 1

def test_auto_mode_finds_portainer_jwt_at_api_auth(fake_server):
    srv = fake_server()
    portainer = upstreams.Portainer(srv)
    client = GenericAPIClient(srv.url, username=USER, password=PASSWORD)
    assert client.get("/api/endpoints") == [{"Id": 1, "Name": "local"}]
    assert client.post("/api/stacks", data={"Name": "mystack"}) == {"Id": 7, "Name": "mystack"}
    assert portainer.logins == 1
    assert [c.path for c in srv.calls].count("/api/auth") == 1

def test_for_service_uses_credentials_added_after_detection():
    class Row:
        api_url = "http://127.0.0.1:9"
        api_username = "me"
        api_password = "pw-123456"
        api_key = ""
        api_auth_type = "none"
        service_type = ""

    assert GenericAPIClient.for_service(Row()).auth_type == "bearer"
