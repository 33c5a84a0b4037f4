"""The job pipeline: list a library through Plex, run one item in an ffmpeg slot, finish the job, sweep.

- ``plan_job`` claims a pending job (conditional UPDATE), lists the library's movies or episodes, takes each
  item's part file and hash from ``/library/metadata/{id}/tree``, maps the Plex path to the local one, marks
  items whose BIF exists as skipped and those whose file is missing as failed (naming both paths), and returns
  the ids of the items to queue, one task each.
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
from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from homelab import clock, events
from homelab.http import is_temporary
from homelab.jobs import Heartbeat, RetryLater

from . import paths, slots
from .clients import PlexError, PlexServer
from .models import Job, JobItem, PreviewSettings
from .services import EVENTS_CHANNEL, job_complete_data

logger = logging.getLogger("previews.jobs")
CANCEL_POLL_SECONDS = 0.5
SLOT_POLL_SECONDS = 0.2


class NoSlot(Exception):
    """No ffmpeg slot can ever run this item with the current settings."""


# --- counts and the end of a job ---------------------------------------------------------------------

def recount(job_id) -> Job | None:
    """Counts and progress from the item rows (the rows are the truth)."""
    counts = JobItem.objects.filter(job_id=job_id).aggregate(
        total=Count("pk"),
        completed=Count("pk", filter=Q(status=JobItem.Status.COMPLETED)),
        failed=Count("pk", filter=Q(status=JobItem.Status.FAILED)),
        skipped=Count("pk", filter=Q(status=JobItem.Status.SKIPPED)),
        cancelled=Count("pk", filter=Q(status=JobItem.Status.CANCELLED)),
    )
    done = counts["completed"] + counts["failed"] + counts["skipped"] + counts["cancelled"]
    progress = int(done * 100 / counts["total"]) if counts["total"] else 0
    Job.objects.filter(pk=job_id).update(
        total_items=counts["total"], completed_items=counts["completed"], failed_items=counts["failed"],
        skipped_items=counts["skipped"], cancelled_items=counts["cancelled"], progress=progress)
    return Job.objects.filter(pk=job_id).first()


def _mapping_matches_nothing(job_id) -> str | None:
    """When every item failed because its mapped file is missing: the message saying so, with an example."""
    items = JobItem.objects.filter(job_id=job_id).exclude(status=JobItem.Status.SKIPPED)
    if not items.exists() or items.exclude(missing_file=True).exists():
        return None
    example = items.first()
    return (f"The path mapping matches nothing: none of the {items.count()} file(s) Plex lists exists here after "
            f"mapping (e.g. Plex path {example.plex_path} -> local path {example.local_path}). Check "
            "plex_videos_path_mapping and plex_local_videos_path_mapping (several prefixes separated by ';').")


def finish_if_done(job_id) -> Job | None:
    """Once no item is pending or running: the job's terminal status (completed, failed, or cancelled as it
    already is), set once (a conditional UPDATE), published as job_complete or job_error."""
    job = recount(job_id)
    if job is None or JobItem.objects.filter(job_id=job_id, status__in=[JobItem.Status.PENDING,
                                                                         JobItem.Status.RUNNING]).exists():
        return job
    if job.status == Job.Status.CANCELLED:
        return job
    error = _mapping_matches_nothing(job_id)
    if error is None and job.failed_items:
        last = JobItem.objects.filter(job_id=job_id, status=JobItem.Status.FAILED).order_by("-finished_at").first()
        error = f"{job.failed_items} of {job.total_items} item(s) failed; last: {last.title}: {last.error}"
    status = Job.Status.FAILED if job.failed_items and not job.completed_items else Job.Status.COMPLETED
    won = Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(
        status=status, finished_at=clock.now(), last_error=error or "")
    job.refresh_from_db()
    if won:
        logger.info("Job %s %s: %s completed, %s failed, %s skipped of %s", job.pk, status, job.completed_items,
                    job.failed_items, job.skipped_items, job.total_items)
        events.publish(EVENTS_CHANNEL, "job_complete", job_complete_data(job))
        if status == Job.Status.FAILED:
            events.publish(EVENTS_CHANNEL, "job_error", {"job_id": str(job.pk), "error": job.last_error})
    return job


def fail_job(job_id, message: str) -> None:
    Job.objects.filter(pk=job_id, status__in=Job.ACTIVE).update(
        status=Job.Status.FAILED, finished_at=clock.now(), last_error=message)
    logger.warning("Job %s failed: %s", job_id, message)
    events.publish(EVENTS_CHANNEL, "job_error", {"job_id": str(job_id), "error": message})


# --- planning -----------------------------------------------------------------------------------------

def plan_job(job_id, *, retries_left: bool = False) -> list[int]:
    """Claim a pending job and create its items; returns the ids of the items to queue (none when another
    delivery got the job first, or it was cancelled). With ``retries_left``, a Plex server that cannot be
    reached or answers 5xx puts the job back to pending and raises RetryLater (the task retries with backoff)."""
    if not Job.objects.filter(pk=job_id, status=Job.Status.PENDING).update(
            status=Job.Status.RUNNING, started_at=clock.now(), heartbeat_at=clock.now()):
        return []
    conf = PreviewSettings.load()
    beat = Heartbeat(Job, job_id, status=Job.Status.RUNNING)
    try:
        if not conf.plex_config_folder:
            raise PlexError("plex_config_folder is not set: the BIFs go under Plex's data folder.")
        pairs = paths.mapping_pairs(conf.plex_videos_path_mapping, conf.plex_local_videos_path_mapping)
        server = PlexServer.for_service(conf.plex_service)
        job = Job.objects.get(pk=job_id)
        library = server.library(job.library_id)
        if library is None:
            raise PlexError(f"The Plex server has no movie or show library with id {job.library_id}.")
        if not job.library_name:
            Job.objects.filter(pk=job_id).update(library_name=library["name"])
        rows = []
        for plex_id, title in server.items(library):
            if not beat():
                return []  # cancelled or deleted while listing
            for part in server.parts(plex_id, title):
                rows.append(_item_row(job_id, part, pairs, conf.plex_config_folder))
    except PlexError as exc:
        if retries_left and not exc.missing and is_temporary(exc.status):
            Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(
                status=Job.Status.PENDING, last_error=f"{exc.reason.rstrip('.')}; retrying.")
            logger.warning("Job %s: %s; retrying", job_id, exc.reason.rstrip("."))
            raise RetryLater(exc.reason) from None
        fail_job(job_id, exc.reason)
        return []
    except paths.MappingError as exc:
        fail_job(job_id, str(exc))
        return []
    except Exception as exc:
        logger.exception("Job %s: listing the library failed", job_id)
        fail_job(job_id, f"Listing the library failed: {exc}")
        return []
    try:
        with transaction.atomic():
            JobItem.objects.bulk_create(rows, ignore_conflicts=True)
    except IntegrityError as exc:  # the job was deleted meanwhile
        logger.info("Job %s: items not written (%s)", job_id, exc)
        return []
    if not Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).exists():
        return []
    job = finish_if_done(job_id)
    logger.info("Job %s: %s item(s) listed in library %s", job_id, job.total_items if job else 0,
                job.library_name if job else "?")
    if job is not None:
        events.publish(EVENTS_CHANNEL, "job_progress", progress_data(job, None))
    return list(JobItem.objects.filter(job_id=job_id, status=JobItem.Status.PENDING).values_list("pk", flat=True))


def _item_row(job_id, part, pairs, config_folder: str) -> JobItem:
    local = paths.map_path(part.file, pairs)
    item = JobItem(job_id=job_id, plex_id=part.plex_id, title=part.title[:500], plex_path=part.file,
                   local_path=local, media_hash=part.hash[:64])
    if not paths.valid_hash(part.hash):
        item.status, item.finished_at = JobItem.Status.FAILED, clock.now()
        item.error = (f"Plex reports no usable media hash for {part.file} ({part.hash!r}): Plex has not analysed "
                      "it yet. Run Analyze on it in Plex, then run the job again.")
        return item
    item.bif_path = bif = paths.bif_path(config_folder, part.hash)
    if os.path.exists(bif):
        item.status, item.finished_at = JobItem.Status.SKIPPED, clock.now()
        item.error = "The BIF exists already (not rewritten)."
    elif not os.path.isfile(local):
        item.status, item.finished_at, item.missing_file = JobItem.Status.FAILED, clock.now(), True
        item.error = _missing_message(part.file, local)
    return item


def _missing_message(plex_path: str, local_path: str) -> str:
    return (f"File not found: {local_path} (Plex path {plex_path}). Check the path mapping "
            "(plex_videos_path_mapping -> plex_local_videos_path_mapping).")


def progress_data(job: Job, item: JobItem | None) -> dict:
    done = job.completed_items + job.failed_items + job.skipped_items + job.cancelled_items
    return {"job_id": str(job.pk), "progress": job.progress, "completed": done, "total": job.total_items,
            "current_item": item.title if item else None}


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
            return _record(item, JobItem.Status.FAILED, _missing_message(item.plex_path, item.local_path),
                           missing=True)
        if os.path.exists(item.bif_path):
            return _record(item, JobItem.Status.SKIPPED, "The BIF exists already (not rewritten).")
        logger.info("Job %s: %s on %s slot %s (%s)", item.job_id, item.title, lease.kind, lease.slot, worker)
        _publish_worker(lease, "working", item)
        while True:
            cancel = _CancelCheck(item, lease)
            gpu = _gpu() if lease.kind == "gpu" else None
            try:
                result = generate_bif(item.local_path, item.bif_path, interval=conf.thumbnail_interval,
                                      quality=conf.thumbnail_quality, gpu=gpu, cancel=cancel,
                                      tmp_dir=settings.PREVIEWS_TMP_DIR or None)
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
    job = finish_if_done(item.job_id)
    if job is not None:
        events.publish(EVENTS_CHANNEL, "job_progress", progress_data(job, item))
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
