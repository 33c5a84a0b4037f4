"""manage.py invites_scan and invites_expire."""
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from invites.models import RemoteUser


def test_invites_scan_reads_every_server_and_fails_when_one_cannot_be_read(jellyfin, emby, make_server, capsys):
    make_server(jellyfin, name="A")
    make_server(emby, server_type="emby", name="B")
    call_command("invites_scan")
    assert "A: Scanned: 3 libraries, 0 users" in capsys.readouterr().out
    emby.down = True
    with pytest.raises(CommandError, match="1 of 2 server"):
        call_command("invites_scan")
    with pytest.raises(CommandError, match="No media server with id 999"):
        call_command("invites_scan", server=[999])


def test_invites_expire_lists_then_expires(jellyfin, make_server, clock, capsys):
    server = make_server(jellyfin, name="A")
    remote = jellyfin.add_user("late")
    RemoteUser.objects.create(server=server, external_id=remote["Id"], username="late",
                              expires=clock.now() - timedelta(minutes=1))
    call_command("invites_expire", dry_run=True)
    assert "late on A: expired" in capsys.readouterr().out
    jellyfin.down = True
    with pytest.raises(CommandError, match="1 account"):
        call_command("invites_expire")
    jellyfin.down = False
    call_command("invites_expire")
    assert capsys.readouterr().out.strip().endswith("delete: 1")
    assert jellyfin.user_named("late") is None
