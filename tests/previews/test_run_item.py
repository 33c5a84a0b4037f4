"""Running one item in this process with real ffmpeg on lavfi clips: the BIF written where Plex looks, each
item done once, a GPU failure retried on the CPU, no slot -> queued again, the job finished by its last item,
progress events on the "previews" channel; and the sweep of lost workers' items."""
import json
import os
from types import SimpleNamespace

import pytest

from homelab import events
from previews import pipeline, services, slots
from previews.media import ffmpeg_path
from previews.models import Job, JobItem
from previews.parsers import read_bif
from tests.previews.clips import make_clip

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clips") / "clip.mkv", ffmpeg=ffmpeg_path(), duration=3, gop=1)


@pytest.fixture
def job(configured, clip):
    """A planned job of the movie library with both movies present (copies of a 3 s clip)."""
    for name in ("movies/Big Buck Bunny (2008)/bbb.mkv", "movies/Sintel (2010)/sintel.mp4"):
        target = configured.local / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(clip.read_bytes())
    job = services.create_job(library_id="1")
    pipeline.plan_job(job.pk)
    return job


def test_an_item_becomes_a_bif_where_plex_looks(job, tmp_path):
    item = JobItem.objects.get(title="Sintel")
    outcome = pipeline.run_item(item.pk, worker="w1")
    assert outcome.status == "completed", outcome.message
    item.refresh_from_db()
    assert item.bif_path == str(tmp_path / "plex/Media/localhost/b/1b2c3d4e5f60002.bundle/Contents/Indexes/index-sd.bif")
    bif = read_bif(item.bif_path)
    assert (len(bif.frames), bif.interval_ms) == (3, 1000)
    assert (item.status, item.worker_kind, item.worker_name, item.attempts, item.frames) == (
        "completed", "cpu", "w1", 1, 3)
    assert slots.held("cpu") == {}  # the slot is given back


def test_an_item_is_done_once_however_often_its_task_runs(job):
    item = JobItem.objects.get(title="Sintel")
    pipeline.run_item(item.pk)
    assert pipeline.run_item(item.pk).status == "gone"
    assert JobItem.objects.get(pk=item.pk).attempts == 1


def test_the_last_item_finishes_the_job_and_events_are_published(job):
    pubsub = events.redis_client().pubsub()
    pubsub.subscribe(events.CHANNEL_PREFIX + "previews")
    for item in JobItem.objects.all():
        pipeline.run_item(item.pk)
    job.refresh_from_db()
    assert (job.status, job.completed_items, job.progress, job.last_error) == ("completed", 2, 100, "")
    assert job.finished_at is not None
    seen = []
    while (message := pubsub.get_message(timeout=1)) is not None:
        if message["type"] == "message":
            seen.append(json.loads(message["data"]))
    pubsub.close()
    names = [m["event"] for m in seen if m["event"] != "worker_update"]
    assert names == ["job_progress", "job_progress", "job_complete"]
    assert "worker_update" in {m["event"] for m in seen}
    progress = [m["data"] for m in seen if m["event"] == "job_progress"][-1]
    assert set(progress) == {"job_id", "progress", "completed", "total", "current_item"}
    assert (progress["job_id"], progress["progress"], progress["completed"], progress["total"]) == (
        str(job.pk), 100, 2, 2)


def test_a_gpu_failure_is_retried_on_the_cpu(job, monkeypatch):
    services.save_settings({"gpu_threads": 1, "cpu_threads": 1})
    broken = SimpleNamespace(kind="vaapi", device="/dev/dri/renderD999", name="gone", driver="none", usable=True,
                             reason="", index=None)
    monkeypatch.setattr(pipeline, "_gpu", lambda: broken)
    item = JobItem.objects.get(title="Sintel")
    assert pipeline.run_item(item.pk).status == "completed"
    item.refresh_from_db()
    assert item.worker_kind == "cpu" and len(read_bif(item.bif_path).frames) == 3


def test_no_free_slot_queues_the_item_again(job):
    services.save_settings({"cpu_threads": 1})
    slots.acquire("cpu", 1, "another-worker")
    item = JobItem.objects.get(title="Sintel")
    assert pipeline.run_item(item.pk, wait=0).status == "requeue"
    assert JobItem.objects.get(pk=item.pk).status == "pending"


def test_no_slot_at_all_fails_the_item_saying_why(job):
    services.save_settings({"cpu_threads": 0, "gpu_threads": 2})
    item = JobItem.objects.get(title="Sintel")
    outcome = pipeline.run_item(item.pk)
    assert outcome.status == "failed"
    assert JobItem.objects.get(pk=item.pk).error.startswith("No ffmpeg slot can run it: cpu_threads is 0 and "
                                                            "gpu_threads is 2")


def test_an_item_of_a_cancelled_job_does_not_run(job):
    services.cancel_job(job.pk)
    item = JobItem.objects.get(title="Sintel")
    assert pipeline.run_item(item.pk).status == "gone"  # cancelled with the job's queued items
    assert not os.path.exists(item.bif_path)


def test_a_file_that_vanished_after_listing_fails_naming_both_paths(job):
    item = JobItem.objects.get(title="Sintel")
    os.remove(item.local_path)
    assert pipeline.run_item(item.pk).status == "failed"
    assert JobItem.objects.get(pk=item.pk).error.startswith(f"File not found: {item.local_path} (Plex path "
                                                            f"{item.plex_path})")


def test_an_unreadable_video_fails_with_ffmpegs_reason(job):
    item = JobItem.objects.get(title="Sintel")
    open(item.local_path, "wb").write(b"not a video at all")
    assert pipeline.run_item(item.pk).status == "failed"
    item.refresh_from_db()
    assert item.error and not os.path.exists(item.bif_path)


def test_the_sweep_requeues_a_lost_workers_item_then_gives_up(job, clock, settings, own_queue):
    from previews import tasks

    settings.PREVIEWS_ITEM_ATTEMPTS = 2
    tasks.queue_items([JobItem.objects.get(title="Big Buck Bunny").pk])  # the other item waits in the broker
    item = JobItem.objects.get(title="Sintel")
    JobItem.objects.filter(pk=item.pk).update(status="running", attempts=1, heartbeat_at=clock.now())
    assert pipeline.sweep_lost_items() == []  # still beating
    clock.travel(settings.JOB_HEARTBEAT_STALE + 1)
    assert pipeline.sweep_lost_items() == [item.pk]
    item.refresh_from_db()
    assert (item.status, item.error) == ("pending", "The worker running it was lost; queued again.")
    JobItem.objects.filter(pk=item.pk).update(status="running", attempts=2, heartbeat_at=clock.now())
    clock.travel(settings.JOB_HEARTBEAT_STALE + 1)
    assert pipeline.sweep_lost_items() == []
    assert JobItem.objects.get(pk=item.pk).status == "failed"


def test_the_sweep_fails_a_job_whose_listing_was_lost(configured, clock):
    job = Job.objects.create(library_id="1", status="running", heartbeat_at=clock.now())
    clock.travel(3600)
    pipeline.sweep_lost_items()
    job.refresh_from_db()
    assert (job.status, job.last_error) == ("failed", "The worker listing the library was lost; run the job again.")


@pytest.fixture
def own_queue(settings):
    """A broker queue of this test's own that no worker reads (emptied afterwards)."""
    import uuid

    from homelab.celery import app

    settings.PREVIEWS_QUEUE = f"previews-sweep-{uuid.uuid4().hex[:8]}"
    yield settings.PREVIEWS_QUEUE
    with app.connection_for_write() as conn:
        conn.default_channel.client.delete(settings.PREVIEWS_QUEUE)


def test_the_sweep_requeues_an_item_whose_task_was_lost_while_waiting_for_a_slot(job, clock, own_queue):
    from previews import tasks

    waiting, queued = JobItem.objects.order_by("pk")
    tasks.queue_items([queued.pk])  # its message waits in the broker
    JobItem.objects.filter(pk=waiting.pk).update(heartbeat_at=clock.now())  # a task was waiting for a slot
    clock.travel(3600)
    assert pipeline.sweep_lost_items() == [waiting.pk]  # the other one is still in the broker's queue
    assert JobItem.objects.get(pk=waiting.pk).heartbeat_at is None
    assert pipeline.sweep_lost_items() == []


def test_the_sweep_requeues_the_queued_items_the_broker_lost(job, clock, own_queue):
    # the embedded Redis was stopped before it saved its queue: the job's pending items have no message left,
    # nothing runs, and the job would stay running for ever
    pending = list(JobItem.objects.order_by("pk").values_list("pk", flat=True))
    assert pipeline.sweep_lost_items() == []  # just listed: its messages may still be on their way
    clock.travel(settings_stale() + 1)
    assert pipeline.sweep_lost_items() == pending
    assert pipeline.sweep_lost_items() == []  # once per JOB_HEARTBEAT_STALE at most
    clock.travel(settings_stale() + 1)
    assert pipeline.sweep_lost_items() == pending


def settings_stale():
    from django.conf import settings

    return settings.JOB_HEARTBEAT_STALE


def test_a_settings_change_applies_to_the_next_item_without_a_restart(job):
    services.save_settings({"cpu_threads": 1})
    slots.acquire("cpu", 1, "another-worker")
    item = JobItem.objects.get(title="Sintel")
    assert pipeline.run_item(item.pk, wait=0).status == "requeue"
    services.save_settings({"cpu_threads": 2})
    assert pipeline.run_item(item.pk, wait=0).status == "completed"


def test_the_sweep_runs_every_minute_from_a_beat_row():
    from django_celery_beat.models import PeriodicTask

    row = PeriodicTask.objects.get(task="previews.sweep_stale")
    assert (row.interval.every, row.interval.period, row.enabled) == (60, "seconds", True)


def test_an_item_whose_file_another_job_is_thumbnailing_is_skipped(job):
    sintel = JobItem.objects.get(title="Sintel")
    other = services.create_job(library_id="1")
    Job.objects.filter(pk=other.pk).update(status="running")
    JobItem.objects.create(job=other, plex_id=sintel.plex_id, media_hash=sintel.media_hash, status="running",
                           bif_path=sintel.bif_path, local_path=sintel.local_path)
    again = JobItem.objects.create(job=job, plex_id="copy", title="Sintel again", media_hash=sintel.media_hash,
                                   bif_path=sintel.bif_path, local_path=sintel.local_path)
    assert pipeline.run_item(again.pk).status == "skipped"
    assert JobItem.objects.get(pk=again.pk).error == f"The same file is being thumbnailed by job {other.pk}."
    assert not os.path.exists(sintel.bif_path)


def test_the_sweep_restarts_a_pending_job_whose_start_message_the_broker_lost(configured, clock, own_queue,
                                                                              settings):
    never_started = services.create_job(library_id="1")  # its start_job message is gone
    retrying = services.create_job(library_id="1")  # went back to pending for a retry, which was lost
    Job.objects.filter(pk=retrying.pk).update(heartbeat_at=clock.now(), started_at=clock.now(),
                                              last_error="Could not reach Plex; retrying.")
    assert pipeline.lost_job_starts() == []  # its message may still be on its way
    clock.travel(settings.JOB_HEARTBEAT_STALE + 1)
    assert pipeline.lost_job_starts() == [str(never_started.pk)]  # a retry may still be scheduled for the other
    assert pipeline.lost_job_starts() == []  # once per interval at most
    clock.travel(settings.JOB_RETRY_MAX_DELAY + settings.JOB_HEARTBEAT_STALE + 1)
    assert sorted(pipeline.lost_job_starts()) == sorted([str(never_started.pk), str(retrying.pk)])
