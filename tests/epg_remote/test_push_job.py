"""The push on the job kit: heartbeat while polling, a sweep for lost workers, retries after jobs.backoff, and
queueing only in tasks.py."""
from datetime import timedelta

import pytest

from epg.remote import pushes
from epg.remote.models import DispatcharrLink
from epg.remote.tasks import push_refresh, sweep_lost_pushes
from tests.conftest import ROOT

from .links import create_link

pytestmark = pytest.mark.django_db


def link_to(fake, **kwargs):
    values = dict(enabled=True, url=fake.url, username=fake.username, password=fake.password, epg_id=21)
    values.update(kwargs)
    return create_link(**values)


def test_a_push_touches_its_heartbeat_while_it_polls(dispatcharr, clock, settings):
    settings.JOB_HEARTBEAT_INTERVAL = 0
    settings.DISPATCHARR_POLL_INTERVAL = 2.0
    link = link_to(dispatcharr)
    beats = []
    sleep = clock.sleep

    def sleep_and_look(seconds):
        sleep(seconds)
        beats.append(DispatcharrLink.objects.get(pk=link.pk).heartbeat_at)

    clock.sleep = sleep_and_look
    assert pushes.push_link(link.pk).outcome == "success"
    assert len(beats) == 3 and beats[0] is not None and beats[0] < beats[1] < beats[2]
    link.refresh_from_db()
    assert link.heartbeat_at is None and link.pushing_since is None  # freed at the end


def test_a_push_whose_claim_was_swept_stops_and_leaves_the_row_alone(dispatcharr, clock, settings):
    settings.JOB_HEARTBEAT_INTERVAL = 0
    dispatcharr.import_plan = ["fetching"] * 50
    link = link_to(dispatcharr)

    sleep = clock.sleep

    def sleep_then_sweep(seconds):
        sleep(seconds)
        if len(clock.sleeps) == 2:  # the sweep, while this worker was thought lost
            DispatcharrLink.objects.filter(pk=link.pk).update(pushing_since=None, heartbeat_at=None,
                                                              last_result="error", last_message="swept")

    clock.sleep = sleep_then_sweep
    assert pushes.push_link(link.pk).outcome == "lost"
    link.refresh_from_db()
    assert (link.last_result, link.last_message) == ("error", "swept")
    assert len(dispatcharr.server.calls_to("/api/epg/sources/21/")) == 2  # no poll after the claim was lost


def test_the_sweep_frees_pushes_whose_heartbeat_is_stale(dispatcharr, clock, settings):
    from homelab import clock as project_clock

    lost = link_to(dispatcharr)
    alive = link_to(dispatcharr, username="other")
    now = project_clock.now()
    DispatcharrLink.objects.filter(pk=lost.pk).update(last_result="running", pushing_since=now, heartbeat_at=now)
    clock.travel(settings.JOB_HEARTBEAT_STALE + 1)
    DispatcharrLink.objects.filter(pk=alive.pk).update(last_result="running", pushing_since=project_clock.now(),
                                                       heartbeat_at=project_clock.now())
    assert sweep_lost_pushes.apply().get() == 1
    lost.refresh_from_db()
    alive.refresh_from_db()
    assert (lost.last_result, lost.pushing_since, lost.heartbeat_at) == ("error", None, None)
    assert lost.last_message == f"Stopped: no heartbeat for {int(settings.JOB_HEARTBEAT_STALE)} s (the worker was " \
                                "lost); run it again."
    assert alive.last_result == "running" and alive.pushing_since is not None


def test_beat_runs_the_sweep_every_minute():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="epg_remote.sweep_lost_pushes")
    assert (task.interval.every, task.interval.period, task.enabled) == (1, "minutes", True)


def test_retries_wait_jobs_backoff(dispatcharr, settings, monkeypatch):
    settings.JOB_RETRY_BACKOFF = 3.0
    settings.JOB_RETRY_MAX_DELAY = 20.0
    dispatcharr.login_status = 503
    link = link_to(dispatcharr)
    countdowns = []
    retry = push_refresh.retry

    def recording_retry(*args, **kwargs):
        countdowns.append(kwargs["countdown"])
        return retry(*args, **kwargs)

    monkeypatch.setattr(push_refresh, "retry", recording_retry)
    assert push_refresh.apply(args=[link.pk]).get() == "error"
    assert countdowns == [3.0, 6.0, 12.0, 20.0, 20.0]


def test_the_services_never_import_tasks_and_only_tasks_py_queues():
    import re

    app = ROOT / "epg" / "remote"
    writes = ["services.py", "pushes.py", "selectors.py", "models.py", "manager.py", "clients.py"]
    importing = re.compile(r"^\s*(from \.tasks import|from \. import .*\btasks\b|from epg\.remote(\.tasks)? import .*tasks)",
                           re.M)
    assert [name for name in writes if importing.search((app / name).read_text())] == []
    assert [name for name in writes if "on_commit" in (app / name).read_text()] == []
