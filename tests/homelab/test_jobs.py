"""homelab.jobs: claims, heartbeats, the sweeps, the registry and the retry rule."""
import os
from datetime import timedelta

import pytest

from epg.models import EPGSource
from homelab import jobs
from homelab.models import APIKey

pytestmark = pytest.mark.django_db

RUNNING = ["fetching", "parsing"]


@pytest.fixture
def source():
    return EPGSource.objects.create(name="A", url="http://guide.example/epg.xml")


# --- the retry rule ---------------------------------------------------------------------------------


def test_backoff_doubles_from_the_setting_up_to_the_cap(settings):
    settings.JOB_RETRY_BACKOFF, settings.JOB_RETRY_MAX_DELAY = 10.0, 600.0
    assert [jobs.backoff(n) for n in range(8)] == [10, 20, 40, 80, 160, 320, 600, 600]
    assert jobs.backoff(-3) == 10


def test_backoff_of_a_huge_attempt_is_the_cap_not_an_overflow(settings):
    settings.JOB_RETRY_BACKOFF, settings.JOB_RETRY_MAX_DELAY = 10.0, 600.0
    assert jobs.backoff(5000) == 600


def test_no_backoff_means_retry_at_once(settings):
    settings.JOB_RETRY_BACKOFF = 0
    assert jobs.backoff(3) == 0


def test_max_retries_is_the_setting(settings):
    settings.JOB_MAX_RETRIES = 2
    assert jobs.max_retries() == 2


def test_retry_later_is_an_exception_with_its_reason():
    assert str(jobs.RetryLater("HTTP 503")) == "HTTP 503"


# --- claim ------------------------------------------------------------------------------------------


def test_claim_wins_once_and_stamps_the_heartbeat(source, clock):
    clock.travel(1000)
    assert jobs.claim(EPGSource, source.pk, running=RUNNING, to="fetching", run_token="t1") is True
    row = EPGSource.objects.get(pk=source.pk)
    assert row.status == "fetching" and row.run_token == "t1"
    assert abs((row.heartbeat_at - clock.now()).total_seconds()) < 5
    assert jobs.claim(EPGSource, source.pk, running=RUNNING, to="fetching", run_token="t2") is False
    assert EPGSource.objects.get(pk=source.pk).run_token == "t1"


def test_a_queued_claim_has_no_heartbeat_until_its_job_starts(source):
    assert jobs.claim(EPGSource, source.pk, running=RUNNING, to="fetching", heartbeat=False)
    assert EPGSource.objects.get(pk=source.pk).heartbeat_at is None


def test_claim_of_a_gone_row_is_false():
    assert jobs.claim(EPGSource, 987654, running=RUNNING, to="fetching") is False


def test_claim_works_on_a_model_without_a_heartbeat(admin_user):
    key, _ = APIKey.generate(name="free", user=admin_user)
    assert jobs.claim(APIKey, key.pk, running=["busy"], to="busy", field="name") is True
    assert jobs.claim(APIKey, key.pk, running=["busy"], to="busy", field="name") is False


# --- Heartbeat --------------------------------------------------------------------------------------


def test_heartbeat_writes_at_most_every_interval(source, clock, settings):
    settings.JOB_HEARTBEAT_INTERVAL = 5
    jobs.claim(EPGSource, source.pk, running=RUNNING, to="parsing", run_token="t")
    beat = jobs.Heartbeat(EPGSource, source.pk, run_token="t")
    assert beat() is True
    first = EPGSource.objects.get(pk=source.pk).heartbeat_at
    clock.travel(3)
    assert beat() is True
    assert EPGSource.objects.get(pk=source.pk).heartbeat_at == first  # within the interval: no write
    clock.travel(3)
    assert beat() is True
    later = EPGSource.objects.get(pk=source.pk).heartbeat_at
    assert (later - first).total_seconds() >= 6
    clock.travel(1)
    assert beat(force=True) is True
    assert EPGSource.objects.get(pk=source.pk).heartbeat_at > later


def test_heartbeat_with_values_writes_them_at_once(source):
    jobs.claim(EPGSource, source.pk, running=RUNNING, to="parsing", run_token="t")
    beat = jobs.Heartbeat(EPGSource, source.pk, run_token="t")
    beat()
    assert beat(progress=42) is True
    assert EPGSource.objects.get(pk=source.pk).progress == 42


def test_heartbeat_is_false_once_the_claim_is_lost_or_the_row_gone(source):
    jobs.claim(EPGSource, source.pk, running=RUNNING, to="parsing", run_token="t")
    beat = jobs.Heartbeat(EPGSource, source.pk, run_token="t")
    EPGSource.objects.filter(pk=source.pk).update(run_token="other")
    assert beat(force=True) is False
    EPGSource.objects.filter(pk=source.pk).delete()
    assert beat(force=True) is False


# --- the sweeps -------------------------------------------------------------------------------------


def test_sweep_stale_frees_only_claims_with_an_old_heartbeat(source, clock, settings):
    settings.JOB_HEARTBEAT_STALE = 90
    fresh = EPGSource.objects.create(name="B", url="http://guide.example/b.xml")
    jobs.claim(EPGSource, source.pk, running=RUNNING, to="parsing", run_token="old")
    clock.travel(60)
    jobs.claim(EPGSource, fresh.pk, running=RUNNING, to="parsing", run_token="new")
    clock.travel(40)  # source: 100 s without a heartbeat; fresh: 40 s
    assert jobs.sweep_stale(EPGSource, running=RUNNING, to="error", message_field="last_message",
                            run_token="", status_changed_at=clock.now) == 1
    row = EPGSource.objects.get(pk=source.pk)
    assert row.status == "error" and row.run_token == ""
    assert row.last_message == "Stopped: no heartbeat for 90 s (the worker was lost); run it again."
    assert abs((row.status_changed_at - clock.now()).total_seconds()) < 5  # the callable was called
    assert EPGSource.objects.get(pk=fresh.pk).status == "parsing"


def test_sweep_stale_leaves_a_queued_claim_and_finished_rows(source, clock):
    jobs.claim(EPGSource, source.pk, running=RUNNING, to="fetching", heartbeat=False)
    done = EPGSource.objects.create(name="B", url="http://guide.example/b.xml")
    jobs.claim(EPGSource, done.pk, running=RUNNING, to="fetching")
    EPGSource.objects.filter(pk=done.pk).update(status="success")
    clock.travel(3600)
    assert jobs.sweep_stale(EPGSource, running=RUNNING, to="error") == 0
    assert EPGSource.objects.get(pk=source.pk).status == "fetching"
    assert EPGSource.objects.get(pk=done.pk).status == "success"


def test_sweep_stuck_frees_a_queued_claim_past_its_timeout_only(source, clock):
    jobs.claim(EPGSource, source.pk, running=RUNNING, to="fetching", heartbeat=False,
               status_changed_at=clock.now())
    beating = EPGSource.objects.create(name="B", url="http://guide.example/b.xml")
    jobs.claim(EPGSource, beating.pk, running=RUNNING, to="parsing", status_changed_at=clock.now())
    assert jobs.sweep_stuck(EPGSource, running=RUNNING, to="error", older_than=timedelta(hours=1)) == 0
    clock.travel(3601)
    assert jobs.sweep_stuck(EPGSource, running=RUNNING, to="error", older_than=timedelta(hours=1),
                            message_field="last_message") == 1
    row = EPGSource.objects.get(pk=source.pk)
    assert row.status == "error" and row.last_message == "Reset: still running after 3600 s (worker lost?)"
    assert EPGSource.objects.get(pk=beating.pk).status == "parsing"  # it has a heartbeat: sweep_stale's


# --- the registry -----------------------------------------------------------------------------------


def test_epg_sources_are_registered():
    labels = [job.model._meta.label for job in jobs.registered()]
    assert "epg.EPGSource" in labels


def test_sweep_all_frees_a_lost_import_and_says_so_on_the_row(source, clock, settings):
    settings.JOB_HEARTBEAT_STALE = 90
    jobs.claim(EPGSource, source.pk, running=RUNNING, to="parsing", run_token="t", progress=19)
    clock.travel(91)
    assert jobs.sweep_all() == {"epg.EPGSource": 1}
    row = EPGSource.objects.get(pk=source.pk)
    assert (row.status, row.progress, row.run_token) == ("error", 0, "")
    assert row.last_message == "Stopped: no heartbeat for 90 s (the worker was lost); run it again."
    assert jobs.sweep_all() == {}


def test_free_dead_claims_at_start_takes_three_heartbeat_intervals(source, clock, settings):
    settings.JOB_HEARTBEAT_INTERVAL, settings.JOB_HEARTBEAT_STALE = 5, 90
    jobs.claim(EPGSource, source.pk, running=RUNNING, to="parsing", run_token="t")
    clock.travel(14)
    assert jobs.free_dead_claims() == {}  # a live worker (maybe another stack's) beats every 5 s
    clock.travel(2)
    assert jobs.free_dead_claims() == {"epg.EPGSource": 1}
    assert EPGSource.objects.get(pk=source.pk).last_message == (
        "Stopped: the worker running it was stopped; run it again.")


def test_the_sweep_task_and_its_beat_row(source, clock):
    from django_celery_beat.models import PeriodicTask

    from homelab.tasks import sweep_jobs

    task = PeriodicTask.objects.get(task="homelab.sweep_jobs")
    assert task.enabled and (task.interval.every, task.interval.period) == (30, "seconds")
    assert not PeriodicTask.objects.filter(task="epg.sweep_stuck").exists()
    jobs.claim(EPGSource, source.pk, running=RUNNING, to="parsing")
    clock.travel(3600)
    assert sweep_jobs() == {"epg.EPGSource": 1}


# --- stale downloads --------------------------------------------------------------------------------


def test_stale_downloads_are_removed_and_running_ones_kept(clock, settings):
    settings.JOB_HEARTBEAT_STALE = 90
    tmp = jobs.tmp_dir()
    tmp.mkdir(parents=True, exist_ok=True)
    old, new = tmp / "epg-1-abc.download", tmp / "epg-2-def.download"
    old.write_bytes(b"x")
    new.write_bytes(b"y")
    os.utime(old, (clock.time() - 91, clock.time() - 91))
    assert jobs.sweep_all() == {}
    assert not old.exists() and new.exists()
    clock.travel(91)
    assert jobs.remove_stale_tmp_files(90) == 1
    assert not new.exists()


def test_a_working_folder_left_by_a_killed_worker_is_removed(clock, settings):
    """previews' ffmpeg frames go to a folder in <data dir>/tmp; a worker killed mid-item leaves it behind."""
    settings.JOB_HEARTBEAT_STALE = 90
    frames = jobs.tmp_dir() / "homelab-bif-abc"
    frames.mkdir(parents=True, exist_ok=True)
    (frames / "00001.jpg").write_bytes(b"x")
    os.utime(frames, (clock.time() - 120, clock.time() - 120))
    jobs.sweep_all()
    assert frames.exists()  # a slow decode may leave its folder unchanged for minutes
    clock.travel(jobs.STALE_WORK_DIR_SECONDS)
    jobs.sweep_all()
    assert not frames.exists()
    frames.mkdir()
    jobs.free_dead_claims()  # at serve's start nothing of the stack runs: removed at once
    clock.travel(60)
    jobs.free_dead_claims()
    assert not frames.exists()
