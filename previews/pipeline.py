"""The job pipeline: run one item in an ffmpeg slot, and sweep the items of lost workers.

- ``plan_job`` (``previews.planning``) lists a job's items; ``previews.progress`` keeps its counts and ends it.
- ``run_item`` waits for a GPU or CPU slot (``previews.slots``), claims the item (pending -> running, so a
  duplicate delivery or a second worker does nothing), runs ``previews.media.generate_bif`` with a cancel
  callable that polls the job's status (and renews the lease and the heartbeat), retries a failed GPU item on
  the CPU, and records the outcome; the last item to end finishes the job.
- ``sweep_lost_items`` puts items whose heartbeat went stale (a worker lost) back to pending, or fails them
  after PREVIEWS_ITEM_ATTEMPTS attempts, and finishes jobs left with nothing to do.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q

from homelab import clock, events, jobs
from homelab.jobs import Heartbeat

from . import slots
from .models import Job, JobItem, PreviewSettings
from .planning import missing_message, plan_job  # noqa: F401 - plan_job: the first step
from .progress import fail_job, finish_if_done, progress_data, recount  # noqa: F401
from .services import EVENTS_CHANNEL

logger = logging.getLogger("previews.jobs")
CANCEL_POLL_SECONDS = 0.5
SLOT_POLL_SECONDS = 0.2


class NoSlot(Exception):
    """No ffmpeg slot can ever run this item with the current settings."""


# --- running one item -----------------------------------------------------------------------------------

@dataclass
class Outcome:
    status: str            # an item status, or "requeue" (no slot yet) / "gone"
    message: str = ""


def _gpu():
    """The first usable GPU of this machine (detected once per process), or None."""
    global _GPU_CACHE
    if _GPU_CACHE is None:
        from .gpu import detect_gpus

        try:
            usable = [g for g in detect_gpus() if g.usable]
        except Exception as exc:
            logger.warning("GPU detection failed: %s", exc)
            usable = []
        _GPU_CACHE = (usable[0] if usable else None,)
    return _GPU_CACHE[0]


_GPU_CACHE = None


def _kinds(conf: PreviewSettings) -> list[str]:
    kinds = []
    if conf.gpu_threads > 0 and _gpu() is not None:
        kinds.append("gpu")
    if conf.cpu_threads > 0:
        kinds.append("cpu")
    if not kinds:
        raise NoSlot(f"No ffmpeg slot can run it: cpu_threads is 0 and gpu_threads is {conf.gpu_threads}"
                     + (" but no usable GPU was found." if conf.gpu_threads else "."))
    return kinds


def _job_cancelled(job_id) -> bool:
    return not Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).exists()


def _wait_for_slot(item: JobItem, holder: str, kinds: list[str], *, wait: float):
    """A lease on the first kind with a free slot (limits re-read from the settings row each round)."""
    deadline = clock.monotonic() + wait
    # the item's heartbeat while its task waits: a task lost while waiting shows as a stale pending item
    beat = Heartbeat(JobItem, item.pk, status=JobItem.Status.PENDING)
    while True:
        beat()
        conf = PreviewSettings.load()
        limits = {"gpu": conf.gpu_threads, "cpu": conf.cpu_threads}
        for kind in kinds:
            lease = slots.acquire(kind, limits[kind], holder, item_id=item.pk, title=item.title,
                                  job_id=str(item.job_id))
            if lease is not None:
                return lease
        if _job_cancelled(item.job_id) or clock.monotonic() > deadline:
            return None
        clock.sleep(SLOT_POLL_SECONDS)


def _publish_worker(lease, status: str, item: JobItem | None) -> None:
    events.publish(EVENTS_CHANNEL, "worker_update", {
        "worker_id": f"{lease.kind}-{lease.slot}", "type": lease.kind, "status": status,
        "current_item": item.title if item and status == "working" else None,
        "job_id": str(item.job_id) if item else None})


class _CancelCheck:
    """generate_bif's cancel callable: True once the job is no longer running (cancelled, deleted, failed).
    Polls the row at most every CANCEL_POLL_SECONDS, and renews the lease and the item's heartbeat."""

    def __init__(self, item: JobItem, lease):
        self.item, self.lease = item, lease
        self.beat = Heartbeat(JobItem, item.pk, status=JobItem.Status.RUNNING)
        self._next = 0.0
        self.cancelled = False

    def __call__(self) -> bool:
        now = clock.monotonic()
        if self.cancelled or now < self._next:
            return self.cancelled
        self._next = now + CANCEL_POLL_SECONDS
        self.lease.renew()
        self.beat()
        self.cancelled = _job_cancelled(self.item.job_id)
        return self.cancelled


def run_item(item_id: int, *, worker: str = "", wait: float | None = None) -> Outcome:
    """Run one item once. ``"requeue"`` when no slot freed up within ``wait`` seconds (the task queues it
    again); ``"gone"`` when the item was deleted, claimed elsewhere or already done."""
    from .media import Cancelled, MediaError, generate_bif

    item = JobItem.objects.filter(pk=item_id).select_related("job").first()
    if item is None or item.status != JobItem.Status.PENDING:
        return Outcome("gone")
    if item.job.status != Job.Status.RUNNING:
        JobItem.objects.filter(pk=item_id, status=JobItem.Status.PENDING).update(
            status=JobItem.Status.CANCELLED, finished_at=clock.now())
        finish_if_done(item.job_id)
        return Outcome(JobItem.Status.CANCELLED)
    conf = PreviewSettings.load()
    try:
        kinds = _kinds(conf)
    except NoSlot as exc:
        return _record(item, JobItem.Status.FAILED, str(exc))
    holder = f"{worker or 'worker'}:{os.getpid()}:item-{item_id}"
    lease = _wait_for_slot(item, holder, kinds, wait=settings.PREVIEWS_SLOT_WAIT if wait is None else wait)
    if lease is None:
        if _job_cancelled(item.job_id):
            JobItem.objects.filter(pk=item_id, status=JobItem.Status.PENDING).update(
                status=JobItem.Status.CANCELLED, finished_at=clock.now())
            finish_if_done(item.job_id)
            return Outcome(JobItem.Status.CANCELLED)
        JobItem.objects.filter(pk=item_id, status=JobItem.Status.PENDING).update(heartbeat_at=None)  # queued again
        return Outcome("requeue")
    try:
        now = clock.now()
        if not JobItem.objects.filter(pk=item_id, status=JobItem.Status.PENDING).update(
                status=JobItem.Status.RUNNING, worker_kind=lease.kind, worker_name=worker[:200], started_at=now,
                heartbeat_at=now, attempts=item.attempts + 1):
            return Outcome("gone")  # another worker claimed it first
        item.refresh_from_db()
        if not os.path.isfile(item.local_path):
            return _record(item, JobItem.Status.FAILED, missing_message(item.plex_path, item.local_path),
                           missing=True)
        if os.path.exists(item.bif_path):
            return _record(item, JobItem.Status.SKIPPED, "The BIF exists already (not rewritten).")
        twin = (JobItem.objects.filter(media_hash=item.media_hash, status=JobItem.Status.RUNNING, pk__lt=item.pk)
                .exclude(job_id=item.job_id).values_list("job_id", flat=True).first())
        if twin is not None:  # another job's item makes the same BIF right now (the older item goes on)
            return _record(item, JobItem.Status.SKIPPED, f"The same file is being thumbnailed by job {twin}.")
        logger.info("Job %s: %s on %s slot %s (%s)", item.job_id, item.title, lease.kind, lease.slot, worker)
        _publish_worker(lease, "working", item)
        while True:
            cancel = _CancelCheck(item, lease)
            gpu = _gpu() if lease.kind == "gpu" else None
            try:
                result = generate_bif(item.local_path, item.bif_path, interval=conf.thumbnail_interval,
                                      quality=conf.thumbnail_quality, gpu=gpu, cancel=cancel,
                                      tmp_dir=_frames_dir())
            except Cancelled:
                return _record(item, JobItem.Status.CANCELLED, "Cancelled while running.")
            except MediaError as exc:
                if lease.kind == "gpu" and "cpu" in kinds and exc.retry_on_cpu:
                    logger.warning("Job %s: %s failed on the GPU (%s); retrying on the CPU", item.job_id,
                                   item.title, exc)
                    _publish_worker(lease, "idle", item)
                    lease.release()
                    lease = _wait_for_slot(item, holder, ["cpu"], wait=settings.CELERY_TASK_TIME_LIMIT)
                    if lease is None:
                        return _record(item, JobItem.Status.CANCELLED, "Cancelled while waiting for a CPU slot.")
                    JobItem.objects.filter(pk=item_id).update(worker_kind="cpu", heartbeat_at=clock.now())
                    _publish_worker(lease, "working", item)
                    continue
                return _record(item, JobItem.Status.FAILED, str(exc))
            return _record(item, JobItem.Status.COMPLETED, "", frames=result.frames)
    except Exception as exc:
        logger.exception("Job %s: item %s failed", item.job_id, item_id)
        return _record(item, JobItem.Status.FAILED, f"Unexpected error: {exc}")
    finally:
        _publish_worker(lease, "idle", None)
        lease.release()


def _record(item: JobItem, status: str, message: str, *, missing: bool = False, frames: int = 0) -> Outcome:
    """The item's outcome (only while it is still running or pending: a sweep may have taken it back),
    then the job's counts, a progress event, and the job's end when this was its last item."""
    values = {"status": status, "error": message, "finished_at": clock.now(), "missing_file": missing}
    if frames:
        values["frames"] = frames
    JobItem.objects.filter(pk=item.pk, status__in=[JobItem.Status.RUNNING, JobItem.Status.PENDING]).update(**values)
    if status == JobItem.Status.FAILED:
        logger.warning("Job %s: %s failed: %s", item.job_id, item.title, message)
    job = recount(item.job_id)
    if job is not None:  # progress first: job_complete is the job's last event
        events.publish(EVENTS_CHANNEL, "job_progress", progress_data(job, item))
    finish_if_done(item.job_id)
    return Outcome(status, message)


# --- the sweep --------------------------------------------------------------------------------------------

def sweep_lost_items() -> list[int]:
    """Items whose worker was lost (heartbeat older than JOB_HEARTBEAT_STALE): back to pending to be queued
    again, or failed after PREVIEWS_ITEM_ATTEMPTS attempts. Jobs left with nothing to do are finished, and jobs
    whose listing was lost are failed. Returns the item ids to queue."""
    cutoff = clock.now() - timedelta(seconds=settings.JOB_HEARTBEAT_STALE)
    stale = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True)
    lost = JobItem.objects.filter(stale, status=JobItem.Status.RUNNING)
    job_ids = set(lost.values_list("job_id", flat=True))
    lost.filter(attempts__gte=settings.PREVIEWS_ITEM_ATTEMPTS).update(
        status=JobItem.Status.FAILED, finished_at=clock.now(),
        error=f"The worker running it was lost {settings.PREVIEWS_ITEM_ATTEMPTS} times; giving up.")
    requeue = list(lost.values_list("pk", flat=True))
    JobItem.objects.filter(pk__in=requeue, status=JobItem.Status.RUNNING).update(
        status=JobItem.Status.PENDING, heartbeat_at=None, error="The worker running it was lost; queued again.")
    # a task lost while it waited for a slot (its item pending, with a heartbeat that stopped); items never
    # picked up have no heartbeat and are still in the broker's queue
    waiting = JobItem.objects.filter(status=JobItem.Status.PENDING, heartbeat_at__lt=cutoff,
                                     job__status=Job.Status.RUNNING)
    lost_waiting = list(waiting.values_list("pk", flat=True))
    JobItem.objects.filter(pk__in=lost_waiting, status=JobItem.Status.PENDING).update(heartbeat_at=None)
    requeue += lost_waiting
    requeue += [pk for pk in _lost_with_the_broker(cutoff) if pk not in requeue]
    if requeue:
        logger.warning("Swept %s item(s) of lost workers back to the queue", len(requeue))
    listing_lost = Job.objects.filter(stale, status=Job.Status.RUNNING, items__isnull=True)
    for job_id in listing_lost.values_list("pk", flat=True):
        fail_job(job_id, "The worker listing the library was lost; run the job again.")
    running = Job.objects.filter(status=Job.Status.RUNNING).exclude(
        items__status__in=[JobItem.Status.PENDING, JobItem.Status.RUNNING]).filter(items__isnull=False)
    job_ids |= set(running.values_list("pk", flat=True))
    for job_id in job_ids:
        finish_if_done(job_id)
    return requeue


def _nothing_in_flight() -> bool:
    """No ffmpeg slot held and no thumbnail message in the broker's queue: work that looks queued but idle was
    lost with the broker (False too when either cannot be read)."""
    try:
        busy = any(slots.held(kind) for kind in slots.KINDS)
    except Exception as exc:
        logger.warning("Could not read the ffmpeg slots: %s", exc)
        return False
    return not busy and _queued_messages() == 0


def _queued_messages() -> int | None:
    """Messages waiting in the broker's queue of the thumbnail tasks (None when the broker cannot say)."""
    from kombu.exceptions import ChannelError
    from homelab.celery import app

    queue = settings.PREVIEWS_QUEUE or app.conf.task_default_queue
    try:
        with app.connection_for_read() as conn:
            return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
    except ChannelError:  # no such queue: nothing was ever queued there, or the broker lost it
        return 0
    except Exception as exc:
        logger.warning("Could not count the queued thumbnail tasks: %s", exc)
        return None


def _lost_with_the_broker(cutoff) -> list[int]:
    """Pending items whose messages the broker lost (the embedded Redis stopped before it saved its queue): a
    running job with pending items nobody picked up, no item of it started or finished since ``cutoff``, no
    ffmpeg slot held anywhere and the broker's queue empty. Queued again at most once per JOB_HEARTBEAT_STALE
    (the job's heartbeat is stamped); a duplicate delivery finds its item claimed and does nothing."""
    idle = (Job.objects.filter(status=Job.Status.RUNNING)
            .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True))
            .filter(items__status=JobItem.Status.PENDING, items__heartbeat_at__isnull=True).distinct())
    job_ids = [job_id for job_id in idle.values_list("pk", flat=True)
               if not JobItem.objects.filter(job_id=job_id).filter(
                   Q(started_at__gte=cutoff) | Q(finished_at__gte=cutoff)).exists()]
    if not job_ids:
        return []
    if not _nothing_in_flight():
        return []
    Job.objects.filter(pk__in=job_ids).update(heartbeat_at=clock.now())
    lost = list(JobItem.objects.filter(job_id__in=job_ids, status=JobItem.Status.PENDING,
                                       heartbeat_at__isnull=True).values_list("pk", flat=True))
    logger.warning("%s queued item(s) of %s job(s) have no message in the broker (lost with it); queued again",
                   len(lost), len(job_ids))
    return lost


def lost_job_starts() -> list[str]:
    """Pending jobs whose start message the broker lost: never started JOB_HEARTBEAT_STALE after they were
    created, or back to pending for a retry longer ago than the longest retry delay allows, while no ffmpeg
    slot is held and the broker's queue is empty. Returns their ids (to queue ``start_job`` again; a duplicate
    finds the job claimed and does nothing); each is returned at most once per JOB_HEARTBEAT_STALE."""
    now = clock.now()
    cutoff = now - timedelta(seconds=settings.JOB_HEARTBEAT_STALE)
    retry_cutoff = cutoff - timedelta(seconds=settings.JOB_RETRY_MAX_DELAY)
    lost = Job.objects.filter(status=Job.Status.PENDING).filter(
        Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
        | Q(heartbeat_at__lt=cutoff, started_at__isnull=True)
        | Q(heartbeat_at__lt=retry_cutoff))
    job_ids = list(lost.values_list("pk", flat=True))
    if not job_ids:
        return []
    if not _nothing_in_flight():
        return []
    Job.objects.filter(pk__in=job_ids, status=Job.Status.PENDING).update(heartbeat_at=now)
    logger.warning("%s pending job(s) have no start message in the broker (lost with it); queued again",
                   len(job_ids))
    return [str(pk) for pk in job_ids]


def _frames_dir():
    """Where ffmpeg's frames go: PREVIEWS_TMP_DIR, else the job kit's ``<data dir>/tmp``, whose sweep removes the
    folders a killed worker leaves behind."""
    if settings.PREVIEWS_TMP_DIR:
        return settings.PREVIEWS_TMP_DIR
    path = jobs.tmp_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path
