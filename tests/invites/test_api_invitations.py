"""GET/POST/DELETE /invites/api/invitations and GET /status, /libraries."""
from datetime import timedelta

import pytest

from invites.models import Invitation

LIST_KEYS = {"id", "code", "status", "created", "expires", "used_at", "used_by", "duration", "unlimited",
             "specific_libraries", "display_name", "server_names", "uses_global_setting",
             "max_uses", "used_count", "used_by_all"}
CREATED_KEYS = {"id", "code", "expires", "duration", "unlimited", "display_name", "server_names",
                "uses_global_setting"}


def test_create_returns_the_contract_shape(api, jellyfin, make_server, clock):
    make_server(jellyfin, name="My Jellyfin Server")
    r = api.post("/invites/api/invitations", {"expires_in_days": 7, "duration": "30", "unlimited": False},
                 format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["message"] == "Invitation created successfully"
    inv = body["invitation"]
    assert set(inv) == CREATED_KEYS
    assert inv["duration"] == "30" and inv["unlimited"] is False
    assert inv["display_name"] == "My Jellyfin Server" and inv["server_names"] == ["My Jellyfin Server"]
    assert inv["uses_global_setting"] is False
    assert len(inv["code"]) == 10 and inv["code"].isalnum() and inv["code"].upper() == inv["code"]
    row = Invitation.objects.get()
    assert abs((row.expires - clock.now()) - timedelta(days=7)) < timedelta(seconds=5)


def test_defaults_are_the_contracts(api, jellyfin, make_server):
    make_server(jellyfin)
    inv = api.post("/invites/api/invitations", {}, format="json").json()["invitation"]
    assert inv["duration"] == "unlimited" and inv["unlimited"] is True and inv["expires"] is None
    listed = api.get("/invites/api/invitations").json()["invitations"][0]
    assert set(listed) == LIST_KEYS
    assert listed["status"] == "pending" and listed["specific_libraries"] is None and listed["used_by"] is None


def test_two_servers_display_name_and_the_global_override(api, jellyfin, emby, make_server, settings):
    make_server(jellyfin, name="Jellyfin Server")
    make_server(emby, server_type="emby", name="Emby Server")
    api.post("/invites/api/invitations", {"unlimited": False}, format="json")
    inv = api.get("/invites/api/invitations").json()["invitations"][0]
    assert inv["display_name"] == "Jellyfin Server, Emby Server"
    assert inv["server_names"] == ["Jellyfin Server", "Emby Server"]
    assert inv["uses_global_setting"] is False
    settings.INVITES_SERVER_NAME = "Movie Night"
    inv = api.get("/invites/api/invitations").json()["invitations"][0]
    assert inv["display_name"] == "Movie Night" and inv["uses_global_setting"] is True
    assert inv["server_names"] == ["Jellyfin Server", "Emby Server"]


def test_server_ids_and_library_ids(api, jellyfin, emby, make_server):
    jf = make_server(jellyfin)
    em = make_server(emby, server_type="emby")
    jf_lib = jf.libraries.first()
    r = api.post("/invites/api/invitations", {"server_ids": [jf.pk], "library_ids": [jf_lib.pk]}, format="json")
    assert r.status_code == 201
    assert r.json()["invitation"]["server_names"] == [jf.name]
    listed = api.get("/invites/api/invitations").json()["invitations"][0]
    assert listed["specific_libraries"] == [jf_lib.pk]
    em_lib = em.libraries.first()
    r = api.post("/invites/api/invitations", {"server_ids": [jf.pk], "library_ids": [em_lib.pk]}, format="json")
    assert r.status_code == 400
    assert r.json() == {"error": f"Library ids not on the invitation's servers: {em_lib.pk}"}
    r = api.post("/invites/api/invitations", {"server_ids": [jf.pk, 424242]}, format="json")
    assert r.json() == {"error": "Unknown server ids: 424242"}
    assert Invitation.objects.count() == 1


def test_no_verified_server_is_400(api):
    r = api.post("/invites/api/invitations", {}, format="json")
    assert r.status_code == 400 and r.json() == {"error": "No verified media server to invite to: add one first"}


@pytest.mark.parametrize("body, start", [
    ({"expires_in_days": 3}, "expires_in_days: Must be 1, 7, 30 or null (never)."),
    ({"expires_in_days": "soon"}, "expires_in_days: A valid integer is required."),
    ({"duration": "forever"}, 'duration: Must be a number of days (1 to 36500) or "unlimited".'),
    ({"duration": "99999999999999999999"}, "duration: Must be a number"),
    ({"duration": True}, "duration: Must be a number"),
    ({"library_ids": "1,2"}, "library_ids:"),
    ({"library_ids": [99999999999999999999]}, "library_ids:"),
    ({"max_uses": 5, "unlimited": False}, "max_uses needs a reusable invitation"),
    ({"max_uses": 0}, "max_uses:"),
    ({"unlimited": "perhaps"}, "unlimited: Must be a valid boolean."),
])
def test_bad_bodies_are_400_with_the_reason(api, jellyfin, make_server, body, start):
    make_server(jellyfin)
    r = api.post("/invites/api/invitations", body, format="json")
    assert r.status_code == 400, r.content
    assert r.json()["error"].startswith(start)
    assert not Invitation.objects.exists()


def test_a_body_that_is_not_an_object_is_400(api, jellyfin, make_server):
    make_server(jellyfin)
    for raw in ("[1, 2]", '"x"', "{not json"):
        r = api.post("/invites/api/invitations", raw, content_type="application/json")
        assert r.status_code == 400 and set(r.json()) == {"error"}


def test_delete(api, jellyfin, make_server):
    make_server(jellyfin)
    inv = api.post("/invites/api/invitations", {}, format="json").json()["invitation"]
    r = api.delete(f"/invites/api/invitations/{inv['id']}")
    assert r.json() == {"message": f"Invitation {inv['code']} deleted successfully"}
    r = api.delete(f"/invites/api/invitations/{inv['id']}")
    assert r.status_code == 404 and r.json() == {"error": "Invitation not found"}


def test_expired_at_once_and_the_status_counts(api, jellyfin, make_server, clock):
    make_server(jellyfin)
    api.post("/invites/api/invitations", {"expires_in_days": 1}, format="json")
    api.post("/invites/api/invitations", {"expires_in_days": 30}, format="json")
    api.post("/invites/api/invitations", {"expires_in_days": None}, format="json")
    assert api.get("/invites/api/status").json() == {"users": 0, "invites": 3, "pending": 3, "expired": 0}
    clock.travel(24 * 3600 + 1)
    listed = api.get("/invites/api/invitations").json()["invitations"]
    assert [i["status"] for i in listed] == ["expired", "pending", "pending"]  # in the order they were made
    assert [i["id"] for i in listed] == sorted(i["id"] for i in listed)
    assert api.get("/invites/api/status").json() == {"users": 0, "invites": 3, "pending": 2, "expired": 1}


def test_libraries_list(api, jellyfin, make_server):
    server = make_server(jellyfin)
    body = api.get("/invites/api/libraries").json()
    assert body["count"] == 3
    assert all(set(lib) == {"id", "name", "server_id"} and lib["server_id"] == server.pk for lib in body["libraries"])


def test_a_null_duration_means_unlimited(api, jellyfin, make_server):
    make_server(jellyfin)
    r = api.post("/invites/api/invitations", {"duration": None}, format="json")
    assert r.status_code == 201 and r.json()["invitation"]["duration"] == "unlimited"


def test_ids_too_large_for_the_database_are_the_contracts_404(api):
    for url in ("/invites/api/invitations/99999999999999999999999", "/invites/api/users/99999999999999999999999"):
        r = api.delete(url)
        assert r.status_code == 404 and set(r.json()) == {"error"}


def test_library_ids_without_server_ids_invite_to_those_libraries_servers_only(api, jellyfin, emby, make_server):
    """The contract's own example ({"library_ids": [1, 2]}, no server_ids) with two servers: the invitation is
    for the server holding those libraries, not every verified server with all of its libraries."""
    jf = make_server(jellyfin, name="Jellyfin Server")
    make_server(emby, server_type="emby", name="Emby Server")
    movies = jf.libraries.get(name="Movies")
    r = api.post("/invites/api/invitations", {"library_ids": [movies.pk], "unlimited": False}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["invitation"]["server_names"] == ["Jellyfin Server"]
    assert list(Invitation.objects.get().servers.all()) == [jf]
