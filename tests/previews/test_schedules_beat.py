"""A due schedule started by a real Celery beat process (the scheduler `manage.py serve` runs) in the live
stack makes a job, which the stack's worker runs to the end."""
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django_celery_beat.models import PeriodicTask

from homelab import clock
from previews.models import Job
from tests.conftest import ROOT, _test_database_url

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def beat(tmp_path):
    procs = []

    def start():
        log = tmp_path / "beat.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "homelab", "beat", "--loglevel", "INFO", "--pidfile", "",
             "--scheduler", "homelab.beat:SafeDatabaseScheduler", "--max-interval", "1"],
            cwd=ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings",
                           "DATABASE_URL": _test_database_url()},
            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        procs.append((proc, log))
        return proc, log

    yield start
    for proc, _ in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_beat_starts_a_due_schedule_and_the_job_runs(stack_queue, client, configured, beat, poll):
    sid = client.post("/previews/api/schedules", {"name": "Often", "library_id": "1", "schedule_type": "interval",
                                                  "interval_minutes": 1}, format="json").json()["id"]
    task = PeriodicTask.objects.get(previews_schedule=sid)
    assert task.queue == stack_queue.queue
    # the last run was two minutes ago: due now (the database is shared with the beat process; no waiting)
    PeriodicTask.objects.filter(pk=task.pk).update(last_run_at=clock.now() - timedelta(minutes=2))
    proc, log = beat()

    def started():
        assert proc.poll() is None, Path(log).read_text()
        return Job.objects.filter(library_id="1").first()
    job = poll(started, timeout=30, interval=0.2, message="beat to start the schedule's job")
    job = poll(lambda: Job.objects.filter(pk=job.pk, status__in=Job.TERMINAL).first(), timeout=30, interval=0.2,
               message="the job to finish")
    # the fake library's files do not exist here: the job ran and says why
    assert job.status == "failed" and "The path mapping matches nothing" in job.last_error
    task.refresh_from_db()
    assert task.last_run_at > clock.now() - timedelta(seconds=60) and task.total_run_count >= 1
    listed = client.get("/previews/api/schedules").json()["schedules"][0]
    assert listed["next_run"] == (task.last_run_at + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert Job.objects.filter(library_id="1").count() == 1  # one job, though beat ticks every second
    assert settings.PREVIEWS_QUEUE == stack_queue.queue
