"""manage.py push_dispatcharr."""
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from epg.remote.models import DispatcharrLink
from epg.remote.tasks import push_refresh

from .links import create_link

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("push_dispatcharr", *args, stdout=out)
    return out.getvalue()


def test_now_pushes_here_and_reports(dispatcharr, clock):
    link = create_link(enabled=True, url=dispatcharr.url, username="admin",
                                          password=dispatcharr.password, epg_id=21)
    out = run("--link", str(link.pk), "--now")
    assert out.startswith(f"{link}: success: EPG refresh success in ")
    assert dispatcharr.imports == [21]


def test_a_failed_push_exits_non_zero(dispatcharr, clock):
    create_link(enabled=True, url=dispatcharr.url, username="admin",
                                   password=dispatcharr.password, epg_id=10)
    with pytest.raises(CommandError, match=r"^The push to link\(s\) \d+ did not succeed\.$"):
        run("--all", "--now")


def test_it_queues_by_default(monkeypatch, django_capture_on_commit_callbacks):
    link = create_link(enabled=True, url="http://d:9191", username="a", password="pw-123456")
    queued = []
    monkeypatch.setattr(push_refresh, "delay", lambda link_id: queued.append(link_id))
    with django_capture_on_commit_callbacks(execute=True):
        assert run("--all") == "Queued a push to 1 Dispatcharr link(s).\n"
    assert queued == [link.pk]


def test_clear_errors():
    with pytest.raises(CommandError, match="^No enabled Dispatcharr link.$"):
        run("--all")
    with pytest.raises(CommandError, match="^Dispatcharr link 999 does not exist.$"):
        run("--link", "999")
    link = create_link(enabled=False, url="http://d:9191", username="a", password="pw-123456")
    with pytest.raises(CommandError, match="is disabled: enable it first"):
        run("--link", str(link.pk))
