"""The media-server clients against the fakes: broken answers, half-made accounts, accounts already gone, and
keys kept out of messages and logs."""
import logging

import pytest

from invites.clients import Flags, ServerError, client_for
from invites.models import Library, RemoteUser


def test_broken_answers_are_clear_errors_not_crashes(jellyfin, make_server):
    server = make_server(jellyfin, name="Main")
    client = client_for(server)
    jellyfin.server.routes[("GET", "/Users")] = lambda c: (200, "<html>login</html>", {"Content-Type": "text/html"})
    with pytest.raises(ServerError, match="Main sent an unexpected answer to GET /Users"):
        client.users()
    jellyfin.server.routes[("GET", "/Library/MediaFolders")] = lambda c: (200, {"Items": "nope"})
    with pytest.raises(ServerError, match="unexpected answer to GET /Library/MediaFolders"):
        client.libraries()
    jellyfin.server.routes[("GET", "/System/Info")] = lambda c: (200, {"hello": "world"})
    with pytest.raises(ServerError, match="did not answer like a Jellyfin server"):
        client.verify()


def test_broken_plex_answers(pms, plextv, make_server):
    server = make_server(pms, server_type="plex", name="Plexy")
    client = client_for(server)
    pms.server.routes[("GET", "/library/sections")] = lambda c: (200, "<MediaContainer><oops", {"Content-Type": "text/xml"})
    with pytest.raises(ServerError, match="unexpected answer to /library/sections"):
        client.libraries()
    plextv.server.routes[("GET", "/api/users")] = lambda c: (200, {"not": "xml"})
    with pytest.raises(ServerError, match="plex.tv sent an unexpected answer to /api/users"):
        client.users()


def test_a_refused_policy_removes_the_account_it_just_made(jellyfin, make_server):
    server = make_server(jellyfin)
    jellyfin.server.routes[("POST", "/Users/{id}/Policy")] = lambda c: (400, "bad policy")
    with pytest.raises(ServerError, match="while setting the account's libraries"):
        client_for(server).create_account(username="half", password="Secret123", email="", flags=Flags(),
                                          libraries=list(Library.objects.all()))
    assert jellyfin.user_named("half") is None


def test_disabling_or_deleting_an_account_already_gone_is_done(jellyfin, make_server):
    server = make_server(jellyfin)
    gone = RemoteUser(server=server, external_id="no-such-id", username="ghost")
    client_for(server).disable_account(gone)
    client_for(server).delete_account(gone)


def test_a_plex_account_without_a_recorded_share_is_found_through_plex_tv(pms, plextv, make_server):
    server = make_server(pms, server_type="plex")
    account, _ = plextv.add_account("dave")
    share = plextv.add_friend(account, pms.machine_identifier)
    client_for(server).delete_account(RemoteUser(server=server, external_id=str(account["id"]), username="dave"))
    assert share not in plextv.shares


def test_keys_are_in_no_message_or_log(api, jellyfin, caplog):
    caplog.set_level(logging.DEBUG)
    r = api.post("/invites/api/servers", {"name": "Main", "server_type": "jellyfin", "server_url": jellyfin.url,
                                          "api_key": "wrong-secret-key-42"}, format="json")
    assert r.status_code == 400
    r = api.post("/invites/api/servers", {"name": "Main", "server_type": "jellyfin", "server_url": jellyfin.url,
                                          "api_key": jellyfin.api_key}, format="json")
    assert r.status_code == 201
    jellyfin.down = True
    api.post(f"/invites/api/servers/{r.json()['server']['id']}/scan")
    text = caplog.text + str(r.content)
    assert "wrong-secret-key-42" not in text and jellyfin.api_key not in text
    assert any("Main answered HTTP 503" in rec.getMessage() for rec in caplog.records)


def test_each_server_type_uses_its_auth_mode(jellyfin, emby, pms, plextv, make_server, settings):
    servers = [make_server(jellyfin), make_server(emby, server_type="emby"), make_server(pms, server_type="plex")]
    assert [s.service.api_auth_type for s in servers] == ["jellyfin", "emby", "plex"]
    for fake in (jellyfin, emby):
        call = [c for c in fake.calls if c.path.endswith("/System/Info")][0]
        assert call.headers["x-emby-token"] == fake.api_key
        assert call.headers["authorization"] == f'MediaBrowser Token="{fake.api_key}"'
    owner = [c for c in plextv.calls if c.path == "/api/users"][0]
    assert owner.headers["x-plex-token"] == plextv.owner_token
    assert owner.headers["x-plex-client-identifier"] == settings.PLEX_CLIENT_IDENTIFIER
    assert owner.headers["x-plex-product"] == settings.PLEX_PRODUCT
