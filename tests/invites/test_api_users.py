"""GET /users (synced from the servers first), DELETE /users/{id}, POST /users/{id}/extend."""
from datetime import timedelta

from django.utils.dateparse import parse_datetime

from invites.models import AuditEntry, RemoteUser

USER_KEYS = {"id", "username", "email", "server", "server_type", "expires", "created"}


def test_users_are_synced_on_get_and_have_the_contract_keys(api, jellyfin, make_server, clock):
    make_server(jellyfin, name="Main")
    jellyfin.add_user("alice")
    jellyfin.add_user("root", IsAdministrator=True)
    clock.travel(120)
    body = api.get("/invites/api/users").json()
    assert body["count"] == 1
    user = body["users"][0]
    assert set(user) == USER_KEYS
    assert user["username"] == "alice" and user["server"] == "Main" and user["server_type"] == "jellyfin"
    assert user["expires"] is None and user["email"] is None
    gone = jellyfin.user_named("alice")["Id"]
    jellyfin.users.pop(gone)
    jellyfin.add_user("bob")
    assert [u["username"] for u in api.get("/invites/api/users").json()["users"]] == ["bob"]


def test_an_empty_or_failed_user_list_changes_nothing(api, jellyfin, make_server):
    jellyfin.add_user("alice")
    make_server(jellyfin)
    jellyfin.empty_users = True
    assert api.get("/invites/api/users").json()["count"] == 1
    jellyfin.empty_users = False
    jellyfin.down = True
    assert api.get("/invites/api/users").json()["count"] == 1



def test_a_user_list_of_unreadable_entries_changes_nothing(api, jellyfin, make_server, clock):
    """An answer whose entries are not users (no Id or Name) is a broken answer, not "no users": the rows, and
    the expiry only this app knows, stay."""
    jellyfin.add_user("alice")
    make_server(jellyfin)
    RemoteUser.objects.update(expires=clock.now() + timedelta(days=1))
    clock.travel(120)
    guard = jellyfin._guard
    for broken in ([{"Id": "x"}], [{"Name": "x"}], [None, 5, "a"]):
        jellyfin.server.route("GET", "/Users")(guard(lambda call, broken=broken: (200, broken)))
        assert api.get("/invites/api/users").json()["count"] == 1
    assert RemoteUser.objects.get().expires is not None

def test_plex_users_come_from_plex_tv_shares_of_this_server(api, pms, plextv, make_server):
    server = make_server(pms, server_type="plex", name="Plexy")
    account, _ = plextv.add_account("dave", "dave@example.com")
    plextv.add_friend(account, pms.machine_identifier)
    stranger, _ = plextv.add_account("eve")
    plextv.add_friend(stranger, "another-machine")
    body = api.get("/invites/api/users").json()
    assert [(u["username"], u["email"], u["server_type"]) for u in body["users"]] == \
        [("dave", "dave@example.com", "plex")]
    assert RemoteUser.objects.get().share_id and server.pk



def test_a_plex_tv_friend_list_of_unreadable_users_changes_nothing(api, pms, plextv, make_server, clock):
    make_server(pms, server_type="plex")
    account, _ = plextv.add_account("dave")
    plextv.add_friend(account, pms.machine_identifier)
    api.get("/invites/api/users")
    RemoteUser.objects.update(expires=clock.now() + timedelta(days=1))
    clock.travel(120)
    broken = '<MediaContainer size="1"><User title="?"><Server machineIdentifier="%s"/></User></MediaContainer>'
    plextv.server.route("GET", "/api/users")(plextv._guard(
        lambda call: (200, broken % pms.machine_identifier, {"Content-Type": "application/xml"})))
    assert api.get("/invites/api/users").json()["count"] == 1
    assert RemoteUser.objects.get().expires is not None

def test_delete_removes_the_account_on_its_server(api, jellyfin, make_server):
    jellyfin.add_user("john_doe")
    make_server(jellyfin)
    user = RemoteUser.objects.get()
    r = api.delete(f"/invites/api/users/{user.pk}")
    assert r.status_code == 200 and r.json() == {"message": "User john_doe deleted successfully"}
    assert jellyfin.user_named("john_doe") is None and not RemoteUser.objects.exists()
    assert AuditEntry.objects.filter(action="deleted", username="john_doe", actor="admin").exists()
    r = api.delete(f"/invites/api/users/{user.pk}")
    assert r.status_code == 404 and r.json() == {"error": "User not found"}


def test_delete_on_a_server_that_is_down_keeps_the_user(api, jellyfin, make_server):
    jellyfin.add_user("john_doe")
    make_server(jellyfin, name="Main")
    user = RemoteUser.objects.get()
    jellyfin.down = True
    r = api.delete(f"/invites/api/users/{user.pk}")
    assert r.status_code == 502
    assert r.json() == {"error": "Could not delete john_doe on Main: Main answered HTTP 503 while deleting john_doe"}
    assert RemoteUser.objects.filter(pk=user.pk).exists()


def test_extend_from_now_by_default_30_days_then_from_the_current_expiry(api, jellyfin, make_server, clock):
    jellyfin.add_user("john_doe")
    make_server(jellyfin)
    user = RemoteUser.objects.get()
    r = api.post(f"/invites/api/users/{user.pk}/extend", {}, format="json")
    assert r.status_code == 200
    body = r.json()
    assert body["message"] == "User john_doe expiry extended by 30 days"
    first = parse_datetime(body["new_expiry"])
    assert abs(first - (clock.now() + timedelta(days=30))) < timedelta(seconds=5)
    body = api.post(f"/invites/api/users/{user.pk}/extend", {"days": 14}, format="json").json()
    assert body["message"] == "User john_doe expiry extended by 14 days"
    assert parse_datetime(body["new_expiry"]) == first + timedelta(days=14)
    user.refresh_from_db()
    assert user.expires == first + timedelta(days=14)


def test_extend_refuses_bad_days_and_unknown_users(api, jellyfin, make_server):
    jellyfin.add_user("john_doe")
    make_server(jellyfin)
    user = RemoteUser.objects.get()
    for days in (0, -3, "many", 10 ** 12):
        r = api.post(f"/invites/api/users/{user.pk}/extend", {"days": days}, format="json")
        assert r.status_code == 400 and r.json()["error"].startswith("days:")
    r = api.post("/invites/api/users/999999/extend", {"days": 1}, format="json")
    assert r.status_code == 404 and r.json() == {"error": "User not found"}


def test_a_list_with_only_the_administrator_removes_the_users_gone_from_the_server(api, jellyfin, make_server, clock):
    jellyfin.add_user("alice")
    make_server(jellyfin)
    assert api.get("/invites/api/users").json()["count"] == 1
    jellyfin.users.pop(jellyfin.user_named("alice")["Id"])
    assert api.get("/invites/api/users").json() == {"users": [], "count": 0}


def test_plex_friends_of_other_servers_only_is_a_real_empty_list(api, pms, plextv, make_server):
    make_server(pms, server_type="plex")
    dave, _ = plextv.add_account("dave")
    share = plextv.add_friend(dave, pms.machine_identifier)
    eve, _ = plextv.add_account("eve")
    plextv.add_friend(eve, "another-machine")
    assert api.get("/invites/api/users").json()["count"] == 1
    plextv.shares.pop(share)
    plextv.friends.pop(dave["id"])
    assert api.get("/invites/api/users").json()["count"] == 0
    plextv.friends.clear()  # an empty answer: nothing changes (here: nothing left to change, but no error either)
    assert api.get("/invites/api/users").status_code == 200
