"""Beat survives a bad schedule row (defect 1): one PeriodicTask whose interval cannot be computed
(``OverflowError: date value out of range``) is logged, disabled and skipped; the others keep running."""
import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from homelab.beat import SafeDatabaseScheduler
from homelab.celery import app

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheduler(monkeypatch):
    sent = []
    # it closes "old" connections between reads, which would end the test's transaction
    monkeypatch.setattr("django_celery_beat.schedulers.close_old_connections", lambda: None)
    monkeypatch.setattr(SafeDatabaseScheduler, "apply_async",
                        lambda self, entry, *a, **kw: sent.append(entry.name))
    beat = SafeDatabaseScheduler(app=app)
    yield beat, sent
    beat._finalize.cancel()  # its sync at process exit would run after the test database is gone


@pytest.mark.parametrize("every, period", [
    (100_000_000, IntervalSchedule.HOURS),  # a timedelta, but now + it is past year 9999
    (2 ** 31 - 1, IntervalSchedule.DAYS),  # not even a timedelta
])
def test_a_stored_interval_too_large_is_logged_disabled_and_skipped(scheduler, caplog, every, period):
    bad = PeriodicTask.objects.create(
        name="bad row", task="homelab.ping",
        interval=IntervalSchedule.objects.create(every=every, period=period))
    good = PeriodicTask.objects.create(
        name="good row", task="homelab.ping", last_run_at=timezone.now() - timedelta(hours=1),
        interval=IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)[0])
    PeriodicTask.objects.exclude(pk__in=[bad.pk, good.pk]).update(enabled=False)
    beat, sent = scheduler
    with caplog.at_level(logging.ERROR, logger="homelab.beat"):
        delay = beat.tick()
        beat.tick()
    assert isinstance(delay, (int, float))
    assert "good row" in sent and "bad row" not in sent
    assert not PeriodicTask.objects.get(pk=bad.pk).enabled
    assert PeriodicTask.objects.get(pk=good.pk).enabled
    messages = [r.getMessage() for r in caplog.records if r.name == "homelab.beat"]
    assert messages and all("'bad row'" in m for m in messages)
    assert "disabled" in messages[0]


def test_a_crontab_that_never_matches_is_logged_disabled_and_skipped(scheduler, caplog):
    # 31 February passes django-celery-beat's field checks, but celery's crontab cannot find its next run
    # and raises RuntimeError("unable to rollover ..."), which ended beat and so the whole stack
    bad = PeriodicTask.objects.create(
        name="never", task="homelab.ping", last_run_at=timezone.now() - timedelta(hours=1),
        crontab=CrontabSchedule.objects.create(minute="0", hour="0", day_of_month="31", month_of_year="2"))
    good = PeriodicTask.objects.create(
        name="good row", task="homelab.ping", last_run_at=timezone.now() - timedelta(hours=1),
        interval=IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)[0])
    PeriodicTask.objects.exclude(pk__in=[bad.pk, good.pk]).update(enabled=False)
    beat, sent = scheduler
    with caplog.at_level(logging.ERROR, logger="homelab.beat"):
        beat.tick()
        beat.tick()
    assert "good row" in sent and "never" not in sent
    assert not PeriodicTask.objects.get(pk=bad.pk).enabled
    messages = [r.getMessage() for r in caplog.records if r.name == "homelab.beat"]
    assert messages and "'never'" in messages[0] and "RuntimeError" in messages[0]


def test_beat_and_serve_use_this_scheduler():
    from homelab.management.commands import serve

    assert app.conf.beat_scheduler == "homelab.beat:SafeDatabaseScheduler"
    assert "homelab.beat:SafeDatabaseScheduler" in open(serve.__file__).read()
