"""The invites admin: servers (add with URL + key, Test connection, Scan), users (Extend, Delete on server),
invitations (custom codes, copy link), the audit log."""
from datetime import timedelta

import pytest
from django.urls import reverse

from invites import services
from invites.models import AuditEntry, Invitation, MediaServer, RemoteUser


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


def _action(admin, model, action, pks):
    url = reverse(f"admin:invites_{model}_changelist")
    return admin.post(url, {"action": action, "_selected_action": [str(p) for p in pks]}, follow=True)


def test_add_a_server_with_url_and_key_verifies_and_scans(admin, jellyfin):
    r = admin.post(reverse("admin:invites_mediaserver_add"), {
        "name": "From admin", "server_type": "jellyfin", "server_url": jellyfin.url, "api_key": jellyfin.api_key,
        "external_url": ""}, follow=True)
    assert r.status_code == 200
    server = MediaServer.objects.get()
    assert server.verified and server.libraries.count() == 3 and server.service.api_key == jellyfin.api_key


def test_add_a_server_with_a_wrong_key_shows_why_and_creates_nothing(admin, jellyfin):
    r = admin.post(reverse("admin:invites_mediaserver_add"), {
        "name": "Bad", "server_type": "jellyfin", "server_url": jellyfin.url, "api_key": "wrong-key"})
    assert r.status_code == 200 and "Bad refused the API key" in r.content.decode()
    assert not MediaServer.objects.exists()


def test_test_connection_and_scan_actions(admin, jellyfin, make_server):
    server = make_server(jellyfin, name="Main")
    assert "Main: OK" in _action(admin, "mediaserver", "test_connection", [server.pk]).content.decode()
    jellyfin.down = True
    text = _action(admin, "mediaserver", "test_connection", [server.pk]).content.decode()
    assert "Main: Main answered HTTP 503" in text
    server.refresh_from_db()
    assert server.verified is False
    jellyfin.down = False
    assert "Main: Scanned: 3 libraries" in _action(admin, "mediaserver", "scan", [server.pk]).content.decode()


def test_extend_and_delete_on_server_actions(admin, jellyfin, make_server, clock):
    jellyfin.add_user("alice")
    make_server(jellyfin)
    user = RemoteUser.objects.get()
    _action(admin, "remoteuser", "extend_30_days", [user.pk])
    user.refresh_from_db()
    assert abs(user.expires - (clock.now() + timedelta(days=30))) < timedelta(seconds=5)
    text = _action(admin, "remoteuser", "delete_on_server", [user.pk]).content.decode()
    assert "Deleted alice on Fake Jellyfin." in text
    assert jellyfin.user_named("alice") is None
    assert set(AuditEntry.objects.values_list("action", flat=True)) == {"extended", "deleted"}
    assert admin.get(reverse("admin:invites_auditentry_changelist")).status_code == 200


def _invitation_form(server, code):
    return {"code": code, "expires_0": "", "expires_1": "", "duration": "", "max_uses": "", "servers": [server.pk],
            "uses-TOTAL_FORMS": "0", "uses-INITIAL_FORMS": "0", "uses-MIN_NUM_FORMS": "0", "uses-MAX_NUM_FORMS": "0"}


def test_custom_codes_of_6_to_10_characters(admin, jellyfin, make_server):
    server = make_server(jellyfin)
    add = reverse("admin:invites_invitation_add")
    r = admin.post(add, _invitation_form(server, "movie1"))
    assert r.status_code == 302, r.content.decode()[:3000]
    assert Invitation.objects.get().code == "MOVIE1"
    for bad in ("abc12", "toolongcode1", "bad-code"):
        r = admin.post(add, _invitation_form(server, bad))
        assert r.status_code == 200
        assert "A code is 6 to 10 letters" in r.content.decode() or "at most 10 characters" in r.content.decode()
    r = admin.post(add, _invitation_form(server, "Movie1"))
    assert "This code is already in use." in r.content.decode()
    r = admin.post(add, _invitation_form(server, ""))
    assert r.status_code == 302 and Invitation.objects.count() == 2


def test_the_list_offers_the_link_to_copy(admin, jellyfin, make_server):
    server = make_server(jellyfin)
    inv = services.create_invitation(server_ids=[server.pk])
    text = admin.get(reverse("admin:invites_invitation_changelist")).content.decode()
    assert f"/j/{inv.code}" in text and "Copy link" in text
