"""The xtream mode: username and password in the query of every request, masked everywhere the client speaks."""
import pytest

from integrations.client import APIError, AuthError, GenericAPIClient
from integrations.models import Service

USERNAME, PASSWORD = "iptv-viewer", "xt-pass-98765"


def panel(srv, username=USERNAME, password=PASSWORD):
    """An Xtream Codes panel: player_api.php and get.php read the query's username and password."""

    def ok(call):
        return call.query.get("username") == username and call.query.get("password") == password

    @srv.route("GET", "/player_api.php")
    def player_api(call):
        if not ok(call):
            return 401, f"Invalid login for {call.query.get('username')} / {call.query.get('password')}"
        if call.query.get("action") == "get_live_categories":
            return 200, [{"category_id": "1", "category_name": "News"}]
        return 200, {"user_info": {"username": username, "password": password, "auth": 1, "status": "Active"}}

    @srv.route("GET", "/get.php")
    def get_php(call):
        if not ok(call):
            return 401, "no"
        return 200, "#EXTM3U\n#EXTINF:-1,News\nhttp://panel/live/x/y/1.ts\n", {"Content-Type": "audio/x-mpegurl"}

    return srv


def test_the_credentials_go_first_in_the_query_of_every_request(fake_server):
    srv = panel(fake_server())
    client = GenericAPIClient(srv.url, username=USERNAME, password=PASSWORD, auth_type="xtream")
    assert client.get("/player_api.php", params={"action": "get_live_categories"}) == [
        {"category_id": "1", "category_name": "News"}]
    assert srv.calls[-1].raw_path == f"/player_api.php?username={USERNAME}&password={PASSWORD}&action=get_live_categories"
    assert client.get("/get.php", params={"type": "m3u_plus", "output": "ts"}).startswith("#EXTM3U")
    assert srv.calls[-1].query == {"username": USERNAME, "password": PASSWORD, "type": "m3u_plus", "output": "ts"}
    assert "authorization" not in srv.calls[-1].headers


def test_a_refused_login_never_shows_the_credentials(fake_server, masked_log):
    srv = panel(fake_server())
    wrong_user, wrong_pass = "someone-else", "wrong-xt-pass-1"
    client = GenericAPIClient(srv.url, username=wrong_user, password=wrong_pass, auth_type="xtream")
    with pytest.raises(APIError) as err:
        client.get("/player_api.php", params={"action": "get_series"})
    assert err.value.status == 401 and err.value.permanent
    text = str(err.value) + err.value.body + repr(err.value.args) + masked_log.getvalue()
    assert wrong_user not in text and wrong_pass not in text
    assert "Invalid login for **** / ****" in err.value.body
    assert "/player_api.php?username=****&password=****" in masked_log.getvalue()  # urllib3's request line


def test_a_short_username_is_masked_too(fake_server, masked_log):
    srv = panel(fake_server(), username="bob", password="pw-bob-1234")
    client = GenericAPIClient(srv.url, username="bob", password="pw-bob-1234", auth_type="xtream")
    assert client.get("/player_api.php")["user_info"]["auth"] == 1
    with pytest.raises(APIError) as err:
        GenericAPIClient(srv.url, username="bob", password="pw-bob-wrong", auth_type="xtream").get("/player_api.php")
    assert "bob" not in str(err.value) + err.value.body
    assert "username=bob" not in masked_log.getvalue() and "pw-bob" not in masked_log.getvalue()


def test_an_unreachable_panel_error_has_no_credentials():
    client = GenericAPIClient("http://127.0.0.1:9", username=USERNAME, password=PASSWORD, auth_type="xtream")
    with pytest.raises(APIError) as err:
        client.get("/get.php", params={"type": "m3u_plus"})
    assert not err.value.permanent and USERNAME not in str(err.value) and PASSWORD not in str(err.value)


def test_without_a_username_and_password_nothing_is_sent(fake_server):
    srv = panel(fake_server())
    with pytest.raises(AuthError, match="xtream authentication needs a username and a password"):
        GenericAPIClient(srv.url, password=PASSWORD, auth_type="xtream").get("/player_api.php")
    assert srv.calls == []


def test_stream_urls_are_masked_by_redact_url(fake_server):
    from homelab.http import redact_url

    GenericAPIClient("http://panel.lan", username=USERNAME, password=PASSWORD, auth_type="xtream")
    assert redact_url(f"http://panel.lan:8080/live/{USERNAME}/{PASSWORD}/42.ts?token=1") == \
        "http://panel.lan:8080/live/****/42.ts"
    assert redact_url(f"http://panel.lan/get.php?username={USERNAME}&password={PASSWORD}") == \
        "http://panel.lan/get.php"


@pytest.mark.django_db
def test_the_proxy_answers_with_the_echoed_credentials_masked(admin_client_jwt, fake_server, masked_log):
    srv = panel(fake_server())
    service = Service.objects.create(name="provider", api_url=srv.url, service_type="xtream",
                                     api_username=USERNAME, api_password=PASSWORD)
    response = admin_client_jwt.get(f"/api/services/{service.pk}/proxy/?path=/player_api.php")
    assert response.status_code == 200
    assert response.json() == {"success": True, "data": {"user_info": {
        "username": "****", "password": "****", "auth": 1, "status": "Active"}}}
    assert USERNAME not in masked_log.getvalue() and PASSWORD not in masked_log.getvalue()
    service.api_password = "wrong-xt-pass-2"
    service.save()
    refused = admin_client_jwt.get(f"/api/services/{service.pk}/proxy/?path=/player_api.php")
    assert refused.status_code == 401 and refused.json()["success"] is False
    assert USERNAME not in refused.content.decode() and "wrong-xt-pass-2" not in refused.content.decode()
