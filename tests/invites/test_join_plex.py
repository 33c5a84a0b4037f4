"""Joining a Plex server: plex.tv PIN sign-in (PLEX_TV_URL points at the fake), then the libraries shared."""
from urllib.parse import parse_qs, urlsplit

from django.conf import settings

from invites import services
from invites.models import RemoteUser


def _sign_in(client, plextv, code, account_token):
    r = client.post(f"/j/{code}/plex")
    assert r.status_code == 302
    location = r["Location"]
    assert location.startswith(plextv.url + "/auth#?")
    query = parse_qs(urlsplit(location).fragment[1:])
    assert query["clientID"] == [settings.PLEX_CLIENT_IDENTIFIER] and settings.PLEX_CLIENT_IDENTIFIER
    assert query["forwardUrl"] == [f"http://testserver/j/{code}/plex/callback"]
    pin = next(p for p in plextv.pins.values() if p["code"] == query["code"][0])
    waiting = client.get(f"/j/{code}/plex/callback")
    assert waiting.status_code == 202 and "has not confirmed your sign-in yet" in waiting.content.decode()
    plextv.approve(pin["id"], account_token)
    back = client.get(f"/j/{code}/plex/callback")
    assert back.status_code == 302 and back["Location"] == f"/j/{code}"


def test_a_plex_join_shares_the_invitations_libraries_with_the_account(client, pms, plextv, make_server):
    server = make_server(pms, server_type="plex", name="Plexy")
    lib = server.libraries.get(name="TV Shows")
    inv = services.create_invitation(unlimited=False, duration=7, server_ids=[server.pk], library_ids=[lib.pk],
                                     allow_downloads=True)
    account, token = plextv.add_account("carol", "carol@example.com")
    page = client.get(f"/j/{inv.code}").content.decode()
    assert "Sign in with Plex" in page and 'name="username"' not in page
    _sign_in(client, plextv, inv.code, token)
    page = client.get(f"/j/{inv.code}").content.decode()
    assert "Signed in to Plex as <strong>carol</strong>" in page
    r = client.post(f"/j/{inv.code}", {})
    assert r.status_code == 200, r.content.decode()
    (share_id, share), = plextv.shares.items()
    assert share["account_id"] == account["id"] and share["machine"] == pms.machine_identifier
    assert share["section_ids"] == plextv.section_ids(pms.machine_identifier, [lib.external_id])
    assert share["settings"]["allowSync"] == "1" and share["settings"]["allowCameraUpload"] == "0"
    user = RemoteUser.objects.get()
    assert (user.username, user.email, user.share_id, user.external_id) == \
        ("carol", "carol@example.com", str(share_id), str(account["id"]))
    assert user.expires is not None


def test_posting_without_the_plex_sign_in_is_refused(client, pms, plextv, make_server):
    server = make_server(pms, server_type="plex")
    inv = services.create_invitation(unlimited=False, server_ids=[server.pk])
    r = client.post(f"/j/{inv.code}", {})
    assert r.status_code == 400 and "Sign in with Plex first." in r.content.decode()
    assert not plextv.shares


def test_plex_and_jellyfin_in_one_invitation_and_a_refused_share_undoes_the_jellyfin_account(
        client, pms, plextv, jellyfin, make_server):
    plex = make_server(pms, server_type="plex", name="Plexy")
    jf = make_server(jellyfin, name="Jelly")
    inv = services.create_invitation(unlimited=False, server_ids=[jf.pk, plex.pk])
    _, token = plextv.add_account("carol")
    _sign_in(client, plextv, inv.code, token)
    form = {"username": "carol", "email": "c@example.com", "password": "Secret123", "password_confirm": "Secret123"}
    plextv.refuse_share = True
    r = client.post(f"/j/{inv.code}", form)
    assert r.status_code == 502 and "could not be created on Plexy" in r.content.decode()
    assert jellyfin.user_named("carol") is None and not RemoteUser.objects.exists()
    plextv.refuse_share = False
    assert client.post(f"/j/{inv.code}", form).status_code == 200
    assert jellyfin.user_named("carol") and len(plextv.shares) == 1
    assert RemoteUser.objects.count() == 2


def test_plex_tv_down_at_sign_in_says_so(client, pms, plextv, make_server):
    server = make_server(pms, server_type="plex")
    inv = services.create_invitation(unlimited=False, server_ids=[server.pk])
    plextv.down = True
    r = client.post(f"/j/{inv.code}/plex")
    assert r.status_code == 400 and "The Plex sign-in could not start" in r.content.decode()
