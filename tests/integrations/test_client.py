"""GenericAPIClient against fake upstreams over real HTTP, one per auth mode."""
import logging
import threading
import time

import pytest

from homelab.http import HTTPError
from integrations.client import APIError, AuthError, GenericAPIClient, jwt_claims
from tests.integrations import upstreams
from tests.integrations.upstreams import ARR_KEY, PASSWORD, USER


def test_it_sends_the_api_key_header(fake_server):
    srv = upstreams.arr(fake_server())
    client = GenericAPIClient(srv.url, api_key=ARR_KEY)
    assert client.auth_type == "api_key"
    assert client.get("/api/v3/system/status") == {"appName": "Sonarr", "version": "4.0.0"}
    assert srv.calls[-1].headers["x-api-key"] == ARR_KEY


def test_it_sends_the_api_key_as_a_query_parameter(fake_server):
    srv = upstreams.arr(fake_server())
    client = GenericAPIClient(srv.url, api_key=ARR_KEY, api_key_query="apikey")
    assert client.get("/api/v3/system/status")["appName"] == "Sonarr"
    assert "x-api-key" not in srv.calls[-1].headers


def test_a_wrong_key_raises_api_error_without_the_key(fake_server):
    srv = upstreams.arr(fake_server())
    client = GenericAPIClient(srv.url, api_key="wrong-key-123456")
    with pytest.raises(APIError) as err:
        client.get("/api/v3/system/status")
    assert err.value.status == 401
    assert err.value.permanent
    assert isinstance(err.value, HTTPError)
    assert "wrong-key-123456" not in str(err.value) + err.value.body


def test_raw_returns_the_response_whatever_its_status(fake_server):
    srv = upstreams.arr(fake_server())
    response = GenericAPIClient(srv.url, api_key="nope-nope-nope").get("/api/v3/system/status", raw=True)
    assert response.status_code == 401


def test_cookie_login_is_a_form_and_survives_expiry(fake_server):
    srv = fake_server()
    qbt = upstreams.QBittorrent(srv)
    client = GenericAPIClient(srv.url, username=USER, password=PASSWORD, auth_type="cookie")
    assert client.get("/api/v2/torrents/info", params={"filter": "downloading"})[0]["state"] == "downloading"
    assert client.post("/api/v2/torrents/add", data={"urls": "magnet:?xt=1"}) == "added magnet:?xt=1"
    assert qbt.logins == 1
    qbt.expire_sessions()
    assert client.get("/api/v2/torrents/info")[0]["name"] == "ubuntu.iso"
    assert qbt.logins == 2


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


def test_it_logs_in_once_across_threads_and_instances(fake_server):
    srv = fake_server()
    portainer = upstreams.Portainer(srv)
    errors, results = [], []

    def work():
        try:
            client = GenericAPIClient(srv.url, username=USER, password=PASSWORD)
            for _ in range(3):
                results.append(client.get("/api/endpoints"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 24
    assert portainer.logins == 1


def test_it_logs_in_again_once_on_401(fake_server):
    srv = fake_server()
    portainer = upstreams.Portainer(srv)
    client = GenericAPIClient(srv.url, username=USER, password=PASSWORD, auth_endpoint="/api/auth")
    client.get("/api/endpoints")
    portainer.revoke()
    assert client.get("/api/endpoints")[0]["Id"] == 1
    assert portainer.logins == 2


def test_wrong_password_is_an_auth_error_without_the_password(fake_server, caplog):
    srv = fake_server()
    upstreams.Dispatcharr(srv)
    client = GenericAPIClient(srv.url, username=USER, password="very-wrong-password", auth_type="jwt",
                              auth_endpoint="/api/accounts/token/", refresh_endpoint="/api/accounts/token/refresh/")
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(AuthError) as err:
            client.get("/api/epg/sources/")
    assert err.value.status == 401 and err.value.permanent
    assert "very-wrong-password" not in str(err.value) + err.value.body + caplog.text
    # the endpoint read the JSON credentials and refused them: no second try as a form
    assert len(srv.calls_to("/api/accounts/token/")) == 1


def test_a_login_forbidden_is_told_apart_from_a_wrong_password(fake_server):
    srv = fake_server()
    srv.route("POST", "/api/accounts/token/")(lambda call: (403, {"detail": "User account is disabled."}))
    client = GenericAPIClient(srv.url, username=USER, password=PASSWORD, auth_type="jwt",
                              auth_endpoint="/api/accounts/token/")
    with pytest.raises(AuthError) as err:
        client.get("/api/epg/sources/")
    assert err.value.status == 403 and err.value.permanent
    assert str(err.value) == "Login forbidden: the account is disabled or may not log in"


def dispatcharr_client(url, **kw):
    return GenericAPIClient(url, username=USER, password=PASSWORD, auth_type="jwt",
                            auth_endpoint="/api/accounts/token/", refresh_endpoint="/api/accounts/token/refresh/", **kw)


def test_jwt_refreshes_before_expiry(fake_server, clock):
    srv = fake_server()
    disp = upstreams.Dispatcharr(srv, lifetime=600)
    client = dispatcharr_client(srv.url)
    assert client.get("/api/epg/sources/")[0]["name"] == "XMLTV"
    clock.travel(570)  # past the refresh point (a minute before expiry), before the expiry
    assert client.get("/api/epg/sources/")[0]["name"] == "XMLTV"
    assert disp.logins == 1
    assert disp.refreshes == 1
    # no request was answered 401 and retried: the refresh happened before the token expired
    assert len(srv.calls_to("/api/epg/sources/")) == 2


def test_jwt_falls_back_to_login_when_refresh_fails(fake_server, clock):
    srv = fake_server()
    disp = upstreams.Dispatcharr(srv, lifetime=600)
    client = dispatcharr_client(srv.url)
    client.get("/api/epg/sources/")
    disp.refresh_works = False
    clock.travel(601)  # the access token has expired
    assert client.get("/api/epg/sources/")[0]["id"] == 1
    assert disp.logins == 2


def test_jwt_relogs_in_on_401(fake_server):
    srv = fake_server()
    disp = upstreams.Dispatcharr(srv, lifetime=600)
    client = dispatcharr_client(srv.url)
    client.get("/api/epg/sources/")
    disp.revoke_all()
    assert client.get("/api/epg/sources/")[0]["id"] == 1
    assert disp.logins == 2


def test_jwt_pair_is_shared_by_concurrent_clients(fake_server):
    srv = fake_server()
    disp = upstreams.Dispatcharr(srv, lifetime=600)
    barrier = threading.Barrier(6)
    errors = []

    def work():
        barrier.wait()
        try:
            dispatcharr_client(srv.url).get("/api/epg/sources/")
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors and disp.logins == 1


def test_expiry_comes_from_the_exp_claim_else_token_lifetime():
    token = upstreams.make_jwt(120)
    assert abs(jwt_claims(token)["exp"] - time.time() - 120) < 2
    client = GenericAPIClient("http://127.0.0.1:9", username="u", password="p", auth_type="jwt",
                              token_lifetime=30)
    entry, _ = client._token_entry("jwt", token, None)
    assert abs(entry["refresh_at"] - (time.time() + 60)) < 2
    entry, _ = client._token_entry("jwt", "opaque-token-value", None)
    assert abs(entry["refresh_at"] - (time.time() + 15)) < 2
    client = GenericAPIClient("http://127.0.0.1:9", username="u", password="p", auth_type="jwt")
    entry, _ = client._token_entry("jwt", "opaque-token-value", None)
    assert abs(entry["refresh_at"] - (time.time() + 240)) < 2


def test_basic_auth(fake_server):
    srv = upstreams.basic(fake_server())
    assert GenericAPIClient(srv.url, username=USER, password=PASSWORD, auth_type="basic").get("/api/health") == {
        "status": "ok"}
    with pytest.raises(APIError) as err:
        GenericAPIClient(srv.url, username=USER, password="bad-password-1", auth_type="basic").get("/api/health")
    assert err.value.status == 401


def test_transmission_session_handshake(fake_server):
    srv = fake_server()
    sid = "transmission-session-42"

    @srv.route("POST", "/transmission/rpc")
    def rpc(call):
        if call.headers.get("x-transmission-session-id") != sid:
            return 409, "<h1>409: Conflict</h1>", {"X-Transmission-Session-Id": sid}
        return 200, {"result": "success", "arguments": {"version": "4.0"}}

    client = GenericAPIClient(srv.url, auth_type="transmission")
    assert client.post("/transmission/rpc", json={"method": "session-get"})["result"] == "success"
    assert client.post("/transmission/rpc", json={"method": "session-get"})["result"] == "success"
    assert len(srv.calls) == 3


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


def test_for_service_uses_credentials_added_after_detection():
    class Row:
        api_url = "http://127.0.0.1:9"
        api_username = "me"
        api_password = "pw-123456"
        api_key = ""
        api_auth_type = "none"
        service_type = ""

    assert GenericAPIClient.for_service(Row()).auth_type == "bearer"


def test_an_exp_already_past_is_not_trusted():
    client = GenericAPIClient("http://127.0.0.1:9", username="u", password="p", auth_type="jwt")
    entry, _ = client._token_entry("jwt", upstreams.make_jwt(-3600), None)
    assert entry["refresh_at"] > time.time() + 200  # the 5-minute default, not a login per request


def fake_deluge(srv, password="deluge-pass"):
    """Deluge Web's JSON-RPC at /json: auth.login sets _session_id; other methods need it (error code 1)."""
    state = {"sessions": set(), "logins": 0}

    @srv.route("POST", "/json")
    def rpc(call):
        body = call.json()
        if body["method"] == "auth.login":
            state["logins"] += 1
            if body["params"] != [password]:
                return 200, {"result": False, "error": None, "id": body["id"]}
            sid = f"sid{state['logins']}"
            state["sessions"].add(sid)
            return 200, {"result": True, "error": None, "id": body["id"]}, {"Set-Cookie": f"_session_id={sid}; Path=/json"}
        if call.cookies.get("_session_id") not in state["sessions"]:
            return 200, {"result": None, "error": {"message": "Not authenticated", "code": 1}, "id": body["id"]}
        return 200, {"result": True, "error": None, "id": body["id"]}

    return state


def test_deluge_logs_in_by_json_rpc_and_again_when_the_session_expires(fake_server):
    srv = fake_server()
    state = fake_deluge(srv)
    client = GenericAPIClient(srv.url, password="deluge-pass", auth_type="deluge")
    call = {"method": "web.connected", "params": [], "id": 2}
    assert client.post("/json", json=call) == {"result": True, "error": None, "id": 2}
    assert state["logins"] == 1
    assert client.post("/json", json=call)["result"] is True
    assert state["logins"] == 1

    state["sessions"].clear()  # Deluge restarted: the session is gone
    assert client.post("/json", json=call)["result"] is True
    assert state["logins"] == 2


def test_deluge_wrong_password_is_an_auth_error(fake_server):
    srv = fake_server()
    fake_deluge(srv)
    client = GenericAPIClient(srv.url, password="nope-nope", auth_type="deluge")
    with pytest.raises(AuthError) as err:
        client.post("/json", json={"method": "web.connected", "params": [], "id": 2})
    assert err.value.status == 401 and str(err.value) == "Invalid password"


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


def test_the_guides_qbittorrent_example_works_as_written(fake_server):
    # API Integration Guide, "qBittorrent": no auth_endpoint, no auth_type
    srv = fake_server()
    qbt = upstreams.QBittorrent(srv)
    client = GenericAPIClient(
        base_url=srv.url,
        username=USER,
        password=PASSWORD
    )
    torrents = client.get('/api/v2/torrents/info')
    assert torrents[0]["name"] == "ubuntu.iso"
    assert client.post('/api/v2/torrents/add', data={
        'urls': 'magnet:?xt=urn:btih:abc'
    }) == "added magnet:?xt=urn:btih:abc"  # a form, as qBittorrent reads it
    qbt.expire_sessions()  # qBittorrent answers an expired session with 403
    assert client.get('/api/v2/torrents/info')[0]["name"] == "ubuntu.iso"
    assert qbt.logins == 2
    # the login form went first: no failed attempt counts toward qBittorrent's IP ban
    assert all(c.form().get("username") == USER for c in srv.calls_to("/api/v2/auth/login"))


def test_a_refused_qbittorrent_login_is_one_attempt(fake_server):
    srv = fake_server()
    upstreams.QBittorrent(srv)
    for auth_type in ("cookie", None):
        srv.calls.clear()
        with pytest.raises(AuthError, match="Invalid username or password"):
            GenericAPIClient(srv.url, username=USER, password="wrong-pass-123", auth_type=auth_type).get(
                "/api/v2/torrents/info")
        assert len(srv.calls_to("/api/v2/auth/login")) == 1, auth_type


def test_a_location_that_is_not_a_url_is_not_followed(fake_server):
    srv = fake_server()
    srv.route("GET", "/go")(lambda call: (302, "", {"Location": "http://127.0.0.1:99999/x"}))
    assert GenericAPIClient(srv.url).get("/go", raw=True).status_code == 302
    with pytest.raises(APIError, match="Not an http"):
        GenericAPIClient("http://host:99999")
