"""GenericAPIClient against fake upstreams over real HTTP: the transport, bodies, answers and redirects. Each auth
mode has its own file in tests/integrations/auth/."""
import pytest

from integrations.client import APIError, GenericAPIClient
from tests.integrations import upstreams
from tests.integrations.upstreams import PASSWORD, USER


def test_raw_returns_the_response_whatever_its_status(fake_server):
    srv = upstreams.arr(fake_server())
    response = GenericAPIClient(srv.url, api_key="nope-nope-nope").get("/api/v3/system/status", raw=True)
    assert response.status_code == 401


def test_jellyfin_key_and_plex_token(fake_server):
    srv = fake_server()

    @srv.route("GET", "/System/Info")
    def info(call):
        ok = call.headers.get("x-emby-token") == "jf-key-123456" and 'Token="jf-key-123456"' in call.headers.get(
            "authorization", "")
        return (200, {"Version": "10.9"}) if ok else (401, "no")

    @srv.route("GET", "/identity")
    def identity(call):
        return (200, {"MediaContainer": {}}) if call.headers.get("x-plex-token") == "plex-tok-123" else (401, "no")

    assert GenericAPIClient(srv.url, api_key="jf-key-123456", auth_type="jellyfin").get("/System/Info")[
        "Version"] == "10.9"
    assert GenericAPIClient(srv.url, api_key="plex-tok-123", auth_type="plex").get("/identity") == {
        "MediaContainer": {}}


def test_jellyfin_password_login(fake_server):
    srv = fake_server()

    @srv.route("POST", "/Users/AuthenticateByName")
    def login(call):
        assert call.json() == {"Username": USER, "Pw": PASSWORD}
        return 200, {"AccessToken": "jf-access-999999", "User": {"Id": "u1"}}

    @srv.route("GET", "/Users")
    def users(call):
        return (200, [{"Name": "a"}]) if call.headers.get("x-emby-token") == "jf-access-999999" else (401, "no")

    client = GenericAPIClient(srv.url, username=USER, password=PASSWORD, auth_type="jellyfin")
    assert client.get("/Users") == [{"Name": "a"}]


def test_text_answers_are_returned_as_text_and_bodies_are_json_form_or_raw(fake_server):
    srv = fake_server()

    @srv.route("*", "/echo")
    def echo(call):
        return 200, f"{call.headers.get('content-type')}|{call.body.decode()}"

    client = GenericAPIClient(srv.url)
    assert client.post("/echo", data={"a": 1}) == 'application/json|{"a": 1}'
    assert client.post("/echo", form={"a": "1"}) == "application/x-www-form-urlencoded|a=1"
    assert client.put("/echo", data="raw body", headers={"Content-Type": "text/plain"}) == "text/plain|raw body"


def test_unreachable_is_a_temporary_api_error():
    client = GenericAPIClient("http://127.0.0.1:9")
    with pytest.raises(APIError) as err:
        client.get("/api")
    assert err.value.status is None and not err.value.permanent


def test_endpoints_never_leave_the_service():
    client = GenericAPIClient("http://127.0.0.1:9")
    for bad in ("http://evil/x", "//evil/x", "\\\\evil"):
        with pytest.raises(APIError):
            client.get(bad)


def test_redirects_to_other_hosts_are_not_followed(fake_server):
    srv, other = fake_server(), fake_server()

    @srv.route("GET", "/go")
    def go(call):
        return 302, "", {"Location": other.url + "/steal"}

    @srv.route("GET", "/here")
    def here(call):
        return 302, "", {"Location": "/there"}

    @srv.route("GET", "/there")
    def there(call):
        return 200, {"ok": True}

    client = GenericAPIClient(srv.url, api_key="some-key-123456")
    assert client.get("/go", raw=True).status_code == 302
    assert other.calls == []
    assert client.get("/here") == {"ok": True}


def test_for_service_reads_the_row():
    class Row:
        api_url = "http://127.0.0.1:9/sub"
        api_username = ""
        api_password = ""
        api_key = "row-key-123456"
        api_key_header = "X-Custom"
        api_key_query = ""
        api_auth_endpoint = ""
        api_auth_type = ""
        service_type = "sonarr"
        verify_ssl = False

    client = GenericAPIClient.for_service(Row())
    assert client.auth_type == "api_key" and client.api_key_header == "X-Custom" and client.verify is False
    assert client.url_for("/api/v3") == "http://127.0.0.1:9/sub/api/v3"


def test_a_redirect_to_another_host_is_an_error_without_raw(fake_server):
    srv, other = fake_server(), fake_server()
    srv.route("GET", "/go")(lambda call: (302, "", {"Location": other.url + "/x"}))
    with pytest.raises(APIError) as err:
        GenericAPIClient(srv.url).get("/go")
    assert err.value.status == 302 and other.calls == []


def test_an_upgrade_to_https_on_the_same_host_is_followed():
    # Traefik's redirect-to-https middleware: http://sonarr.lan/x -> https://sonarr.lan/x is the same service
    import responses

    with responses.RequestsMock() as mock:
        mock.get("http://sonarr.lan/api/v3/system/status", status=301,
                 headers={"Location": "https://sonarr.lan/api/v3/system/status"})
        mock.get("https://sonarr.lan/api/v3/system/status", json={"appName": "Sonarr"},
                 match=[responses.matchers.header_matcher({"X-Api-Key": "some-key-123456"})])
        mock.get("https://other.lan/api", status=301, headers={"Location": "http://other.lan/api"})
        mock.get("http://sonarr.lan/port", status=301, headers={"Location": "https://sonarr.lan:8443/port"})
        client = GenericAPIClient("http://sonarr.lan", api_key="some-key-123456")
        assert client.get("/api/v3/system/status") == {"appName": "Sonarr"}
        # a downgrade, or another port, is not the same service: not followed
        assert GenericAPIClient("https://other.lan").get("/api", raw=True).status_code == 301
        assert client.get("/port", raw=True).status_code == 301


def test_text_without_a_charset_is_utf8(fake_server):
    srv = fake_server()
    srv.route("GET", "/version")(lambda call: (200, "v4.6 – café".encode(), {"Content-Type": "text/plain"}))
    assert GenericAPIClient(srv.url).get("/version") == "v4.6 – café"


def test_a_location_that_is_not_a_url_is_not_followed(fake_server):
    srv = fake_server()
    srv.route("GET", "/go")(lambda call: (302, "", {"Location": "http://127.0.0.1:99999/x"}))
    assert GenericAPIClient(srv.url).get("/go", raw=True).status_code == 302
    with pytest.raises(APIError, match="Not an http"):
        GenericAPIClient("http://host:99999")


@pytest.mark.parametrize("status, permanent", [(429, False), (500, False), (503, False), (400, True), (404, True),
                                               (409, True)])
def test_whether_a_failure_is_permanent_is_homelab_http_is_temporary(fake_server, status, permanent):
    srv = fake_server()
    srv.route("POST", "/api/x")(lambda call: (status, {"error": "no"}))
    with pytest.raises(APIError) as err:
        GenericAPIClient(srv.url, retries=0).post("/api/x", json={})
    assert err.value.status == status and err.value.permanent is permanent
