"""Jobs end to end: the API, two real Celery worker processes on the same Redis and database, real ffmpeg on
lavfi clips, the fake Plex over HTTP. A job's items are shared by both workers and each is done once; cancel
stops a running item within 2 s; a worker killed mid-item has its item swept and done by the other."""
import hashlib
import os

import pytest

from homelab import clock as project_clock
from previews import pipeline, slots, tasks
from previews.media import ffmpeg_path
from previews.models import Job, JobItem
from previews.parsers import read_bif
from tests.conftest import wait_for
from tests.previews import workers
from tests.previews.clips import make_clip

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clips") / "clip.mkv", ffmpeg=ffmpeg_path(), duration=3, gop=1)


@pytest.fixture(scope="module")
def frames_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("frames")


@pytest.fixture(scope="module")
def pair(django_db_setup, django_db_blocker, tmp_path_factory, frames_dir):
    """Two worker processes on the previews queue, with a slow-capable ffmpeg and quick heartbeats."""
    env = {"FFMPEG_PATH": str(workers.slow_ffmpeg(tmp_path_factory.mktemp("bin"))),
           "PREVIEWS_TMP_DIR": str(frames_dir), "JOB_HEARTBEAT_INTERVAL": "0.5", "PREVIEWS_LEASE_SECONDS": "3"}
    started = workers.start(["previews-w1", "previews-w2"], env)
    yield started
    workers.stop(started)


@pytest.fixture(autouse=True)
def _queue(settings):
    settings.PREVIEWS_QUEUE = workers.queue_name()


def _library(plex, clip, title: str, names: list[str]):
    library = plex.add_library(str(len(plex.libraries) + 10), title, "movie")
    for n, name in enumerate(names):
        plex.add_video(library, name, f"/data/{title}/{name}.mkv", hashlib.sha1(f"{title}/{name}".encode()).hexdigest())
        target = plex.local / title / f"{name}.mkv"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(clip.read_bytes())
    return library


def _start(client, library) -> Job:
    response = client.post("/previews/api/jobs", {"library_id": library.key}, format="json")
    assert response.status_code == 201, response.content
    return Job.objects.get(pk=response.json()["id"])


def _finished(job: Job, timeout: float = 60) -> Job:
    def done():
        job.refresh_from_db()
        return job.status in Job.TERMINAL and not JobItem.objects.filter(job=job, status="running").exists()
    wait_for(done, timeout=timeout, interval=0.1, message=f"job {job.pk} to finish")
    return job


def test_two_workers_share_a_job_and_each_item_is_done_once(pair, client, configured, clip):
    client.post("/previews/api/settings", {"cpu_threads": 4}, format="json")
    library = _library(configured, clip, "Shared", [f"movie {n}" for n in range(6)])
    job = _finished(_start(client, library))
    assert (job.status, job.completed_items, job.total_items, job.progress) == ("completed", 6, 6, 100), \
        job.last_error
    items = list(JobItem.objects.filter(job=job))
    assert {i.attempts for i in items} == {1}
    assert {i.worker_name for i in items} == {w.nodename for w in pair}
    for item in items:
        bif = read_bif(item.bif_path)
        assert (len(bif.frames), bif.interval_ms) == (3, 1000)
    detail = client.get(f"/previews/api/jobs/{job.pk}").json()
    assert detail["completed_items"] == 6 and detail["finished_at"] and detail["error"] is None


def test_one_cpu_thread_means_one_ffmpeg_at_a_time_across_both_workers(pair, client, configured, clip):
    client.post("/previews/api/settings", {"cpu_threads": 1}, format="json")
    library = _library(configured, clip, "Single", [f"one {n}" for n in range(3)])
    job = _finished(_start(client, library))
    assert job.status == "completed", job.last_error
    spans = sorted((i.started_at, i.finished_at) for i in JobItem.objects.filter(job=job))
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:])), spans


def test_cancel_stops_a_running_item_within_2_s(pair, client, configured, tmp_path_factory, frames_dir):
    client.post("/previews/api/settings", {"cpu_threads": 1}, format="json")
    slow = make_clip(tmp_path_factory.mktemp("slow") / "slow.mkv", ffmpeg=ffmpeg_path(), duration=20, gop=2)
    library = _library(configured, slow, "Slow", ["slow-1", "slow-2", "slow-3"])
    job = _start(client, library)
    running = wait_for(lambda: JobItem.objects.filter(job=job, status="running").first(), timeout=30,
                       interval=0.05, message="an item to run")
    wait_for(lambda: any(frames_dir.iterdir()), timeout=10, interval=0.05, message="ffmpeg to start")
    response = client.post(f"/previews/api/jobs/{job.pk}/cancel")
    assert response.json() == {"success": True, "message": "Job cancelled"}
    started = project_clock.monotonic()
    wait_for(lambda: JobItem.objects.get(pk=running.pk).status == "cancelled", timeout=2.0, interval=0.05,
             message="the running item to stop")
    assert project_clock.monotonic() - started < 2.0
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert set(JobItem.objects.filter(job=job).values_list("status", flat=True)) == {"cancelled"}
    assert not any(os.path.exists(i.bif_path) for i in JobItem.objects.filter(job=job))
    wait_for(lambda: not any(frames_dir.iterdir()), timeout=5, message="the temporary frames to be removed")
    wait_for(lambda: not slots.held("cpu"), timeout=5, message="the slot to be given back")


def test_a_killed_workers_item_is_swept_and_done_by_the_other(pair, client, configured, tmp_path_factory,
                                                              settings):
    client.post("/previews/api/settings", {"cpu_threads": 2}, format="json")
    slow = make_clip(tmp_path_factory.mktemp("lost") / "slow.mkv", ffmpeg=ffmpeg_path(), duration=2, gop=1)
    library = _library(configured, slow, "Lost", ["slow-a"])
    job = _start(client, library)
    item = wait_for(lambda: JobItem.objects.filter(job=job, status="running").first(), timeout=30,
                    interval=0.05, message="the item to run")
    victim = next(w for w in pair if w.nodename == item.worker_name)
    workers.kill(victim)
    settings.JOB_HEARTBEAT_STALE = 2

    def swept():
        tasks.queue_items(pipeline.sweep_lost_items())
        return JobItem.objects.get(pk=item.pk).attempts == 2
    wait_for(swept, timeout=30, interval=0.5, message="the sweep to queue the item again")
    job = _finished(job)
    item.refresh_from_db()
    assert (job.status, item.status, item.attempts) == ("completed", "completed", 2)
    assert item.worker_name != victim.nodename
    assert len(read_bif(item.bif_path).frames) == 2


def test_generate_previews_waits_with_a_progress_bar_and_exits_0(pair, configured, clip, capsys):
    from django.core.management import call_command

    library = _library(configured, clip, "Command", ["movie c"])
    call_command("generate_previews", "--library", library.key, "--wait", "--timeout", "60")
    out, err = capsys.readouterr()
    assert "completed: 1 done, 0 failed, 0 skipped of 1." in out
    assert "Command" in err and "1/1" in err  # the tqdm bar


def test_generate_previews_exits_1_when_the_job_fails(pair, configured, clip):
    from django.core.management import CommandError, call_command

    library = configured.add_library("77", "Nowhere", "movie")
    configured.add_video(library, "ghost", "/elsewhere/ghost.mkv", "ee00000000000001")
    with pytest.raises(CommandError) as raised:
        call_command("generate_previews", "--library", "77", "--wait", "--timeout", "60")
    assert raised.value.returncode == 1
    assert "The path mapping matches nothing" in str(raised.value)
