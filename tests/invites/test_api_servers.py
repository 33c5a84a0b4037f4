"""POST/GET/DELETE /invites/api/servers and /servers/{id}/scan (beyond the contract, so scripts can set up)."""
import pytest

from invites.models import Library, MediaServer, RemoteUser
from integrations.models import Service

SERVER_KEYS = {"id", "name", "server_type", "server_url", "external_url", "verified", "allow_downloads",
               "allow_live_tv", "allow_mobile_uploads", "created_at"}


def test_a_jellyfin_server_is_verified_scanned_and_listed_without_its_key(api, jellyfin):
    jellyfin.add_user("alice")
    r = api.post("/invites/api/servers", {"name": "Home", "server_type": "jellyfin", "server_url": jellyfin.url,
                                          "api_key": jellyfin.api_key, "allow_downloads": True}, format="json")
    assert r.status_code == 201, r.content
    server = r.json()["server"]
    assert set(server) == SERVER_KEYS
    assert server["verified"] is True and server["allow_downloads"] is True and server["external_url"] is None
    assert server["server_url"] == jellyfin.url
    assert jellyfin.api_key not in r.content.decode()
    assert [lib.name for lib in Library.objects.order_by("name")] == ["Movies", "Music", "Shows"]
    assert list(RemoteUser.objects.values_list("username", flat=True)) == ["alice"]
    row = MediaServer.objects.get()
    assert row.service.api_key == jellyfin.api_key and row.service.source == "manual"
    listed = api.get("/invites/api/servers").json()
    assert listed["count"] == 1 and listed["servers"][0] == server
    assert jellyfin.api_key not in api.get("/invites/api/servers").content.decode()


def test_an_emby_server_keeps_the_folder_guids(api, emby):
    r = api.post("/invites/api/servers", {"name": "Emby", "server_type": "emby", "server_url": emby.url,
                                          "api_key": emby.api_key}, format="json")
    assert r.status_code == 201, r.content
    assert sorted(Library.objects.values_list("guid", flat=True)) == sorted(f["Guid"] for f in emby.folders)


def test_a_plex_server_is_verified_with_identity_and_the_token(api, pms, plextv):
    r = api.post("/invites/api/servers", {"name": "Plex", "server_type": "plex", "server_url": pms.url,
                                          "api_key": pms.token, "external_url": "https://plex.example.com"},
                 format="json")
    assert r.status_code == 201, r.content
    server = MediaServer.objects.get()
    assert server.machine_identifier == pms.machine_identifier
    assert sorted(Library.objects.values_list("name", flat=True)) == ["Movies", "TV Shows"]
    assert r.json()["server"]["external_url"] == "https://plex.example.com"


@pytest.mark.parametrize("server_type", ["jellyfin", "emby"])
def test_a_wrong_key_is_400_and_nothing_is_created(api, jellyfin, server_type):
    r = api.post("/invites/api/servers", {"name": "Home", "server_type": server_type, "server_url": jellyfin.url,
                                          "api_key": "wrong-key-123"}, format="json")
    assert r.status_code == 400
    assert r.json() == {"error": "Home refused the API key while verifying the API key"}
    assert not MediaServer.objects.exists() and not Service.objects.exists()


def test_an_unreachable_server_is_400_and_nothing_is_created(api):
    from tests.live import free_port

    r = api.post("/invites/api/servers", {"name": "Gone", "server_type": "jellyfin",
                                          "server_url": f"http://127.0.0.1:{free_port()}", "api_key": "k"},
                 format="json")
    assert r.status_code == 400
    assert r.json() == {"error": "Gone could not be reached while verifying the API key"}
    assert not MediaServer.objects.exists()


@pytest.mark.parametrize("body, message", [
    ({}, "name: This field is required."),
    ({"name": "x", "server_type": "kodi", "server_url": "http://h", "api_key": "k"},
     'server_type: "kodi" is not a valid choice.'),
    ({"name": "x", "server_type": "plex", "server_url": "ftp://h", "api_key": "k"},
     "server_url: Must be an http:// or https:// URL."),
    ({"name": "x", "server_type": "plex", "server_url": "http://h:99999", "api_key": "k"},
     "server_url: The URL's port is not valid."),
])
def test_bad_server_bodies_are_400_with_the_reason(api, body, message):
    r = api.post("/invites/api/servers", body, format="json")
    assert r.status_code == 400
    assert r.json()["error"].startswith(message)


def test_a_traefik_service_can_be_picked_and_is_kept_when_the_server_goes(db, jellyfin):
    from invites import services

    service = Service.objects.create(name="jellyfin@docker", source="traefik", api_url=jellyfin.url,
                                     api_key=jellyfin.api_key, service_type="jellyfin")
    server = services.create_server(name="Picked", server_type="jellyfin", service=service)
    assert server.service_id == service.pk and server.verified
    services.delete_server(server)
    assert Service.objects.filter(pk=service.pk).exists()


def test_delete_and_scan(api, jellyfin, make_server):
    server = make_server(jellyfin)
    jellyfin.folders.append({"Name": "Kids", "Id": "f4kids", "Guid": "g4", "CollectionType": "movies"})
    r = api.post(f"/invites/api/servers/{server.pk}/scan")
    assert r.status_code == 200
    assert r.json()["libraries"] == 4
    assert api.delete(f"/invites/api/servers/{server.pk}").json() == {"message": "Server Fake Jellyfin deleted successfully"}
    assert not MediaServer.objects.exists() and not Service.objects.exists()
    assert api.delete(f"/invites/api/servers/{server.pk}").json() == {"error": "Server not found"}


def test_a_scan_that_fails_or_comes_back_empty_changes_nothing(api, jellyfin, make_server):
    jellyfin.add_user("alice")
    server = make_server(jellyfin)
    before = (list(Library.objects.values_list("pk", "name")), list(RemoteUser.objects.values_list("pk", "username")))
    jellyfin.folders.clear()
    jellyfin.empty_users = True
    r = api.post(f"/invites/api/servers/{server.pk}/scan").json()
    assert r["libraries"] is None and r["users"] is None
    assert "reported no libraries; nothing was changed" in r["message"]
    jellyfin.down = True
    api.post(f"/invites/api/servers/{server.pk}/scan")
    assert api.get("/invites/api/users").status_code == 200
    after = (list(Library.objects.values_list("pk", "name")), list(RemoteUser.objects.values_list("pk", "username")))
    assert after == before


def test_a_service_can_be_picked_by_id(api, jellyfin):
    service = Service.objects.create(name="jellyfin@docker", source="traefik", api_url=jellyfin.url,
                                     api_key=jellyfin.api_key, service_type="jellyfin")
    r = api.post("/invites/api/servers", {"name": "Picked", "server_type": "jellyfin", "service_id": service.pk},
                 format="json")
    assert r.status_code == 201, r.content
    assert MediaServer.objects.get().service_id == service.pk
    r = api.post("/invites/api/servers", {"name": "Nope", "server_type": "jellyfin", "service_id": 424242},
                 format="json")
    assert r.status_code == 400 and r.json() == {"error": "service_id: No service with id 424242."}
    r = api.post("/invites/api/servers", {"name": "Nope", "server_type": "jellyfin"}, format="json")
    assert r.json() == {"error": "server_url: This field is required.; api_key: This field is required."}
