"""Plex endpoints against the fake plex.tv and the fake Plex server over real HTTP."""
import pytest

from tests.live import free_port

pytestmark = pytest.mark.django_db


def test_pin_sign_in(client, plextv):
    response = client.post("/previews/api/plex/auth/pin")
    assert response.status_code == 200
    pin = response.json()
    assert set(pin) == {"id", "code", "auth_url"}
    assert pin["auth_url"].startswith("https://app.plex.tv/auth#?clientID=")
    assert f"code={pin['code']}" in pin["auth_url"]
    call = plextv.server.calls_to("/api/v2/pins")[0]
    assert call.headers["x-plex-product"] == "homelab" and call.headers["x-plex-client-identifier"]

    assert client.get(f"/previews/api/plex/auth/pin/{pin['id']}").json() == {"authenticated": False,
                                                                             "auth_token": None}
    plextv.link(pin["id"])
    assert client.get(f"/previews/api/plex/auth/pin/{pin['id']}").json() == {"authenticated": True,
                                                                             "auth_token": plextv.token}


def test_an_unknown_pin_is_404(client, plextv):
    response = client.get("/previews/api/plex/auth/pin/999")
    assert response.status_code == 404
    assert response.json() == {"error": "No Plex PIN 999 (it may have expired).", "code": "NOT_FOUND"}


def test_plex_tv_down_is_a_424_saying_so(client, settings):
    settings.PLEX_TV_URL = f"http://127.0.0.1:{free_port()}"
    response = client.post("/previews/api/plex/auth/pin")
    assert response.status_code == 424
    assert response.json()["code"] == "PLEX_UNAVAILABLE"
    assert response.json()["error"].startswith("Could not reach plex.tv")


def test_servers_from_plex_tv_resources(client, plextv):
    plextv.add_server("My Server", "192.168.1.100", 32400)
    client.post("/previews/api/settings", {"plex_token": plextv.token}, format="json")
    response = client.get("/previews/api/plex/servers")
    assert response.status_code == 200
    assert response.json() == {"servers": [{"name": "My Server", "machine_id": "machine-1", "host": "192.168.1.100",
                                            "port": 32400, "ssl": False, "owned": True, "local": True}]}


def test_servers_with_a_token_override_and_a_wrong_token(client, plextv):
    plextv.add_server("My Server", "192.168.1.100", 32400)
    assert len(client.get("/previews/api/plex/servers", {"token": plextv.token}).json()["servers"]) == 1
    response = client.get("/previews/api/plex/servers", {"token": "wrong"})
    assert response.status_code == 424
    assert response.json()["error"] == "plex.tv refused the token (HTTP 401): check the Plex token."


def test_servers_without_any_token_is_a_validation_error(client, plextv):
    response = client.get("/previews/api/plex/servers")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"


def test_libraries_of_the_configured_server(client, configured):
    response = client.get("/previews/api/plex/libraries")
    assert response.json() == {"libraries": [{"id": "1", "name": "Movies", "type": "movie"},
                                             {"id": "2", "name": "TV Shows", "type": "show"}]}
    assert all(c.headers.get("x-plex-token") == configured.token for c in configured.server.calls)


def test_libraries_with_url_and_token_overrides(client, plex):
    response = client.get("/previews/api/plex/libraries", {"url": plex.url, "token": plex.token})
    assert [lib["id"] for lib in response.json()["libraries"]] == ["1", "2"]


def test_libraries_with_a_bad_url_override(client, plex):
    response = client.get("/previews/api/plex/libraries", {"url": "gopher://x", "token": plex.token})
    assert response.status_code == 400
    assert response.json() == {"error": "url: The URL must start with http:// or https://.",
                               "code": "VALIDATION_ERROR"}


def test_libraries_with_item_counts(client, configured):
    response = client.get("/previews/api/libraries")
    assert response.json() == {"libraries": [
        {"id": "1", "name": "Movies", "type": "movie", "item_count": 2},
        {"id": "2", "name": "TV Shows", "type": "show", "item_count": 3}]}


def test_libraries_unconfigured_is_a_validation_error(client):
    response = client.get("/previews/api/libraries")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"


def test_plex_test_names_the_server_and_version(client, plex):
    response = client.post("/previews/api/plex/test", {"url": plex.url, "token": plex.token}, format="json")
    assert response.json() == {"success": True, "server_name": "Fake Plex", "version": "1.32.0.6918"}


def test_plex_test_uses_the_stored_settings(client, configured):
    assert client.post("/previews/api/plex/test", {}, format="json").json()["success"] is True


def test_plex_test_with_a_wrong_token_says_so(client, plex):
    response = client.post("/previews/api/plex/test", {"url": plex.url, "token": "wrong"}, format="json")
    assert response.status_code == 200
    assert response.json() == {"success": False, "error": f"The Plex server at {plex.url} refused the token "
                                                          "(HTTP 401): check the Plex token."}


def test_plex_test_with_a_dead_server_says_so(client):
    url = f"http://127.0.0.1:{free_port()}"
    response = client.post("/previews/api/plex/test", {"url": url, "token": "some-token"}, format="json")
    assert response.status_code == 200
    assert response.json() == {"success": False, "error": f"Could not reach the Plex server at {url}: connection refused"}


def test_plex_test_against_something_that_is_not_plex(client, fake_server):
    other = fake_server()
    other.route("GET", "/")(lambda call: (200, {"hello": "json"}))
    response = client.post("/previews/api/plex/test", {"url": other.url, "token": "t"}, format="json")
    assert response.json() == {"success": False,
                               "error": f"The Plex server at {other.url} did not answer XML for /: is it a Plex server?"}


def test_plex_test_with_broken_xml(client, fake_server):
    other = fake_server()
    other.route("GET", "/")(lambda call: (200, "<MediaContainer friendlyName='x'", {"Content-Type": "text/xml"}))
    body = client.post("/previews/api/plex/test", {"url": other.url, "token": "t"}, format="json").json()
    assert body["success"] is False and "malformed XML" in body["error"]


def test_the_plex_token_never_shows_in_answers_or_logs(client, configured, caplog):
    client.post("/previews/api/plex/test", {"url": configured.url, "token": "wrong-secret-zzz"}, format="json")
    for path in ("/previews/api/settings", "/previews/api/system/config", "/previews/api/libraries"):
        assert configured.token.encode() not in client.get(path).content
    assert configured.token not in caplog.text


def test_plex_test_against_a_server_that_answers_404(client, fake_server):
    other = fake_server()
    response = client.post("/previews/api/plex/test", {"url": other.url, "token": "t"}, format="json")
    assert response.json() == {"success": False, "error": f"The Plex server at {other.url} answered HTTP 404 for /."}


def test_a_url_with_credentials_is_refused_and_never_echoed(client):
    response = client.post("/previews/api/plex/test", {"url": "http://user:pw-secret@127.0.0.1:1", "token": "t"},
                           format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "url: Put the token in plex_token, not in the URL.", "code": "VALIDATION_ERROR"}
    response = client.post("/previews/api/settings", {"plex_url": "http://user:pw-secret@plex:32400"}, format="json")
    assert response.json()["error"] == "plex_url: Put the token in plex_token, not in the URL."


def test_a_plex_service_synced_from_traefik_can_be_the_server(client, plex):
    from integrations.models import Service
    from previews.models import PreviewSettings

    service = Service.objects.create(name="plex", source="traefik", service_type="plex", api_url=plex.url,
                                     api_key=plex.token, traefik_router="plex@docker")
    row = PreviewSettings.load()
    row.plex_service = service
    row.save()
    assert [lib["id"] for lib in client.get("/previews/api/libraries").json()["libraries"]] == ["1", "2"]
    assert client.get("/previews/api/settings").json()["plex_url"] == plex.url


@pytest.mark.parametrize("path, method", [("/previews/api/plex/servers", "get"), ("/previews/api/plex/libraries", "get"),
                                          ("/previews/api/plex/test", "post"), ("/previews/api/settings", "post")])
def test_a_token_that_cannot_go_in_a_header_is_a_validation_error(client, path, method):
    field = "plex_token" if path.endswith("settings") else "token"
    if method == "get":
        response = client.get(path, {field: "t\U00051833k en"})
    else:
        response = client.post(path, {field: "t\U00051833k en"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": f"{field}: A Plex token is printable ASCII without spaces.",
                               "code": "VALIDATION_ERROR"}
