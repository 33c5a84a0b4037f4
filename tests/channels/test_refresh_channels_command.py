"""manage.py refresh_channels [--provider ID] [--wait]."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from channels.models import Provider

pytestmark = pytest.mark.django_db


def test_it_queues_every_enabled_provider(panel, make_provider, django_capture_on_commit_callbacks):
    make_provider(panel, name="a")
    make_provider(panel, name="b", enabled=False)
    out = StringIO()
    with django_capture_on_commit_callbacks() as callbacks:
        call_command("refresh_channels", stdout=out)
    assert out.getvalue() == "a: refresh queued\n" and len(callbacks) == 1
    assert Provider.objects.get(name="a").status == "fetching"
    assert Provider.objects.get(name="b").status == "idle"


def test_a_running_refresh_is_not_queued_twice(panel, make_provider, django_capture_on_commit_callbacks):
    provider = make_provider(panel)
    Provider.objects.filter(pk=provider.pk).update(status="parsing")
    out = StringIO()
    with django_capture_on_commit_callbacks() as callbacks:
        call_command("refresh_channels", "--provider", str(provider.pk), stdout=out)
    assert "already refreshing" in out.getvalue() and callbacks == []


def test_an_unknown_provider_and_no_provider_are_errors(db):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("refresh_channels", "--provider", "999")
    with pytest.raises(CommandError, match="No enabled IPTV provider"):
        call_command("refresh_channels")


def test_wait_reports_a_failure_with_a_non_zero_exit(panel, make_provider, monkeypatch):
    from channels import tasks

    provider = make_provider(panel)
    Provider.objects.filter(pk=provider.pk).update(status="error", last_message="boom")
    # the refresh "already ran" and ended in error (no worker here: the command follows the row)
    monkeypatch.setattr(tasks, "queue_refresh", lambda pk, message="": False)
    with pytest.raises(CommandError, match="Refresh failed: panel"):
        call_command("refresh_channels", "--wait", stdout=StringIO())
