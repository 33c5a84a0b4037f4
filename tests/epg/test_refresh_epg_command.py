"""manage.py refresh_epg: argument errors and queueing (the --wait path runs with a real worker in tests/e2e)."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from epg.models import EPGSource

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("refresh_epg", *args, stdout=out)
    return out.getvalue()


def test_it_needs_a_source_or_all():
    with pytest.raises(CommandError, match="one of the arguments --source --all is required"):
        run()


def test_an_unknown_source_is_a_one_line_error():
    with pytest.raises(CommandError, match=r"^EPG source 77 does not exist\.$"):
        run("--source", "77")


def test_all_with_nothing_to_refresh():
    EPGSource.objects.create(name="d", source_type="dummy")
    with pytest.raises(CommandError, match=r"^No active EPG source to refresh\.$"):
        run("--all")


def test_a_dummy_source_is_refused():
    d = EPGSource.objects.create(name="d", source_type="dummy")
    with pytest.raises(CommandError, match=r"^d: Dummy EPG sources do not require refreshing\.$"):
        run("--source", str(d.pk))


def test_it_claims_and_reports(django_capture_on_commit_callbacks, monkeypatch):
    from epg import tasks

    queued = []
    monkeypatch.setattr(tasks.import_source, "delay", lambda *a: queued.append(a))
    a = EPGSource.objects.create(name="a", url="http://a.example/epg.xml")
    with django_capture_on_commit_callbacks(execute=True):
        assert run("--source", str(a.pk)) == "a: refresh queued\n"
    assert run("--source", str(a.pk)) == "a: already refreshing\n"
    assert len(queued) == 1 and EPGSource.objects.get(pk=a.pk).status == "fetching"
