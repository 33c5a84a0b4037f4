"""/join and /j/<code>: the page, its validation, and accounts made on the fake servers."""
import re

import pytest
from django.test import Client

from invites import services
from invites.models import AuditEntry, Invitation, InvitationUse, RemoteUser

GOOD = {"username": "newbie", "email": "newbie@example.com", "password": "Secret123", "password_confirm": "Secret123"}


@pytest.fixture
def invitation(jellyfin, make_server):
    server = make_server(jellyfin, name="Home Jellyfin")
    return services.create_invitation(duration=30, unlimited=False, server_ids=[server.pk])


def test_the_page_shows_the_server_a_form_and_a_csrf_token(client, invitation):
    r = client.get(f"/j/{invitation.code.lower()}")
    assert r.status_code == 200
    html = r.content.decode()
    assert "Join Home Jellyfin" in html and "csrfmiddlewaretoken" in html
    assert 'name="username"' in html and 'name="password_confirm"' in html
    assert "<script" not in html and "http://" not in html.replace(invitation.code, "")  # no outside assets


def test_a_join_creates_the_account_with_the_libraries_and_flags(client, invitation, jellyfin, clock):
    lib = invitation.servers.get().libraries.get(name="Shows")
    invitation.libraries.set([lib])
    r = client.post(f"/j/{invitation.code}", GOOD)
    assert r.status_code == 200, r.content.decode()
    assert "Welcome, newbie!" in r.content.decode()
    user = jellyfin.user_named("newbie")
    assert jellyfin.passwords[user["Id"]] == "Secret123"
    policy = user["Policy"]
    assert policy["EnableAllFolders"] is False and policy["EnabledFolders"] == ["f2shows"]
    assert policy["EnableContentDownloading"] is False and policy["EnableLiveTvAccess"] is False
    row = RemoteUser.objects.get(username="newbie")
    assert row.invitation_id == invitation.pk and row.email == "newbie@example.com"
    assert abs((row.expires - row.created).total_seconds() - 30 * 86400) < 1
    invitation.refresh_from_db()
    assert invitation.used_count == 1 and invitation.status == "used"
    assert AuditEntry.objects.filter(action="joined", username="newbie").exists()


def test_no_libraries_named_means_all_of_the_servers_and_flags_are_set_explicitly(client, jellyfin, make_server):
    server = make_server(jellyfin)
    inv = services.create_invitation(unlimited=False, server_ids=[server.pk], allow_downloads=True, allow_live_tv=True)
    assert client.post(f"/j/{inv.code}", GOOD).status_code == 200
    policy = jellyfin.user_named("newbie")["Policy"]
    assert sorted(policy["EnabledFolders"]) == sorted(jellyfin.folder_grants())
    assert policy["EnableAllFolders"] is False
    assert policy["EnableContentDownloading"] is True and policy["EnableLiveTvAccess"] is True


def test_emby_gets_the_password_in_a_second_call_and_folders_by_guid(client, emby, make_server):
    server = make_server(emby, server_type="emby")
    lib = server.libraries.get(name="Movies")
    inv = services.create_invitation(unlimited=False, server_ids=[server.pk], library_ids=[lib.pk])
    assert client.post(f"/j/{inv.code}", GOOD).status_code == 200
    user = emby.user_named("newbie")
    assert emby.passwords[user["Id"]] == "Secret123"
    assert user["Policy"]["EnabledFolders"] == [lib.guid] and lib.guid
    new = [c for c in emby.calls if c.path.endswith("/Users/New")][0].json()
    assert new == {"Name": "newbie"}
    pw = [c for c in emby.calls if c.path.endswith("/Password")][0].json()
    assert pw == {"NewPw": "Secret123", "CurrentPw": "", "ResetPassword": False}


@pytest.mark.parametrize("field, value, message", [
    ("username", "ab", "Ensure this value has at least 3 characters"),
    ("username", "a" * 16, "Ensure this value has at most 15 characters"),
    ("username", "bad name!", "Use only letters, digits and"),
    ("email", "not-an-email", "Enter a valid email address."),
    ("password", "short1A", "Ensure this value has at least 8 characters"),
    ("password", "alllowercase1", "needs an upper-case letter, a lower-case letter and a digit"),
    ("password_confirm", "Different123", "The two passwords differ."),
])
def test_the_form_rules(client, invitation, jellyfin, field, value, message):
    r = client.post(f"/j/{invitation.code}", {**GOOD, field: value})
    assert r.status_code == 400
    assert message in r.content.decode().replace("&#x27;", "'")
    assert jellyfin.user_named("newbie") is None
    invitation.refresh_from_db()
    assert invitation.used_count == 0


def test_invalid_expired_and_used_up_codes_say_so(client, invitation, clock):
    r = client.get("/j/NOSUCHCODE")
    assert r.status_code == 404 and "This invitation code is not valid." in r.content.decode()
    assert client.post(f"/j/{invitation.code}", GOOD).status_code == 200
    r = client.get(f"/j/{invitation.code}")
    assert r.status_code == 410 and "This invitation has already been used." in r.content.decode()
    r = client.post(f"/j/{invitation.code}", {**GOOD, "username": "second"})
    assert r.status_code == 410
    inv = services.create_invitation(expires_in_days=1)
    clock.travel(86401)
    r = client.get(f"/j/{inv.code}")
    assert r.status_code == 410 and "This invitation has expired." in r.content.decode()


def test_a_taken_name_is_refused_and_the_use_given_back(client, invitation, jellyfin):
    jellyfin.add_user("NewBie")
    r = client.post(f"/j/{invitation.code}", GOOD)
    assert r.status_code == 409
    assert "The username newbie is already taken on Home Jellyfin" in r.content.decode()
    invitation.refresh_from_db()
    assert invitation.used_count == 0 and not InvitationUse.objects.exists()


def test_a_server_that_is_down_says_so_and_keeps_the_invitation(client, invitation, jellyfin):
    jellyfin.down = True
    r = client.post(f"/j/{invitation.code}", GOOD)
    assert r.status_code == 502
    text = r.content.decode()
    assert "Your account could not be created on Home Jellyfin" in text and "try again in a few minutes" in text
    invitation.refresh_from_db()
    assert invitation.used_count == 0
    jellyfin.down = False
    assert client.post(f"/j/{invitation.code}", GOOD).status_code == 200


def test_two_servers_one_failing_leaves_nothing_half_made(client, jellyfin, emby, make_server):
    jf = make_server(jellyfin, name="Jelly")
    em = make_server(emby, server_type="emby", name="Embyland")
    inv = services.create_invitation(unlimited=False, server_ids=[jf.pk, em.pk])
    emby.fail_create = True
    r = client.post(f"/j/{inv.code}", GOOD)
    assert r.status_code == 502
    assert "Your account could not be created on Embyland" in r.content.decode()
    assert jellyfin.user_named("newbie") is None  # made, then removed again
    assert not RemoteUser.objects.filter(username="newbie").exists()
    inv.refresh_from_db()
    assert inv.used_count == 0
    emby.fail_create = False
    assert client.post(f"/j/{inv.code}", GOOD).status_code == 200
    assert jellyfin.user_named("newbie") and emby.user_named("newbie")
    assert RemoteUser.objects.filter(username="newbie").count() == 2


def test_a_reusable_invitation_records_every_user_and_max_uses_holds(client, jellyfin, make_server, api):
    server = make_server(jellyfin)
    inv = services.create_invitation(unlimited=True, max_uses=2, server_ids=[server.pk])
    for name in ("first", "second"):
        assert client.post(f"/j/{inv.code}", {**GOOD, "username": name}).status_code == 200
    r = client.post(f"/j/{inv.code}", {**GOOD, "username": "third"})
    assert r.status_code == 410 and jellyfin.user_named("third") is None
    assert list(InvitationUse.objects.filter(invitation=inv).values_list("username", flat=True)) == ["first", "second"]
    listed = api.get("/invites/api/invitations").json()["invitations"][0]
    assert listed["used_by_all"] == ["first", "second"] and listed["used_by"] == "second"
    assert listed["status"] == "used" and listed["used_count"] == 2 and listed["max_uses"] == 2
    assert set(RemoteUser.objects.filter(invitation=inv).values_list("username", flat=True)) == {"first", "second"}


def test_csrf_is_required(invitation):
    csrf_client = Client(enforce_csrf_checks=True)
    assert csrf_client.post(f"/j/{invitation.code}", GOOD).status_code == 403
    page = csrf_client.get(f"/j/{invitation.code}").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert csrf_client.post(f"/j/{invitation.code}", {**GOOD, "csrfmiddlewaretoken": token}).status_code == 200


def test_join_attempts_are_rate_limited_per_ip(client, invitation, settings):
    settings.INVITES_JOIN_RATE = "2/min"
    bad = {**GOOD, "password_confirm": "nope"}
    assert client.post(f"/j/{invitation.code}", bad).status_code == 400
    assert client.post(f"/j/{invitation.code}", bad).status_code == 400
    r = client.post(f"/j/{invitation.code}", GOOD)
    assert r.status_code == 429 and int(r["Retry-After"]) > 0
    assert client.post(f"/j/{invitation.code}", GOOD, REMOTE_ADDR="10.0.0.9").status_code == 200


def test_join_asks_for_a_code_first(client, invitation):
    r = client.get("/join")
    assert r.status_code == 200 and 'name="code"' in r.content.decode()
    r = client.get("/join", {"code": invitation.code.lower()})
    assert r.status_code == 302 and r["Location"] == f"/j/{invitation.code}"
    r = client.get("/join", {"code": "ZZZZZZZZ"})
    assert r.status_code == 400 and "This invitation code is not valid." in r.content.decode()


def test_guessing_codes_is_rate_limited_too(client, invitation, settings):
    settings.INVITES_JOIN_RATE = "3/min"
    assert [client.get(f"/j/GUESS{i:05d}").status_code for i in range(4)] == [404, 404, 404, 429]
    assert client.get(f"/j/{invitation.code}").status_code == 200  # a real code still opens


def test_a_join_is_published_on_the_invites_channel(client, invitation, monkeypatch):
    from homelab import events

    seen = []
    monkeypatch.setattr(events, "publish", lambda channel, event, data: seen.append((channel, event, data)))
    assert client.post(f"/j/{invitation.code}", GOOD).status_code == 200
    user = RemoteUser.objects.get(username="newbie")
    assert ("invites", "user_joined", {"username": "newbie", "invitation": invitation.code, "users": [user.pk]}) in seen


def test_an_invitation_deleted_during_the_join_keeps_nothing(client, invitation, jellyfin, monkeypatch):
    from invites.clients import JellyfinClient

    original = JellyfinClient.create_account

    def create_then_withdraw(self, **kwargs):
        account = original(self, **kwargs)
        Invitation.objects.filter(pk=invitation.pk).delete()
        return account

    monkeypatch.setattr(JellyfinClient, "create_account", create_then_withdraw)
    r = client.post(f"/j/{invitation.code}", GOOD)
    assert r.status_code == 404
    assert "This invitation was withdrawn while your account was being made" in r.content.decode()
    assert jellyfin.user_named("newbie") is None and not RemoteUser.objects.exists()


def test_the_rate_limit_keys_on_the_real_client_behind_a_trusted_proxy(client, invitation, settings):
    settings.INVITES_JOIN_RATE = "1/min"
    bad = {**GOOD, "password_confirm": "nope"}
    # not behind a trusted proxy: X-Forwarded-For is the sender's word and ignored
    assert client.post(f"/j/{invitation.code}", bad, HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 400
    assert client.post(f"/j/{invitation.code}", bad, HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 429
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert client.post(f"/j/{invitation.code}", bad, HTTP_X_FORWARDED_FOR="3.3.3.3").status_code == 400
    assert client.post(f"/j/{invitation.code}", bad, HTTP_X_FORWARDED_FOR="3.3.3.3").status_code == 429
    assert client.post(f"/j/{invitation.code}", bad, HTTP_X_FORWARDED_FOR="4.4.4.4").status_code == 400
