"""Listing a job's items through Plex: claim the job, list the library's movies or episodes, take each part's
file and hash from ``/library/metadata/{id}/tree``, map the Plex path to the local one, skip items whose BIF
exists, fail those whose file is missing (naming both paths), and return the items to queue."""
from __future__ import annotations

import logging
import os

from django.db import IntegrityError, transaction

from homelab import clock, events
from homelab.jobs import Heartbeat, RetryLater

from . import paths
from .clients import PlexError, PlexServer
from .models import Job, JobItem, PreviewSettings
from .progress import fail_job, finish_if_done, progress_data
from .services import EVENTS_CHANNEL

logger = logging.getLogger("previews.jobs")


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
        if retries_left and exc.temporary:
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
        item.error = missing_message(part.file, local)
    return item


def missing_message(plex_path: str, local_path: str) -> str:
    return (f"File not found: {local_path} (Plex path {plex_path}). Check the path mapping "
            "(plex_videos_path_mapping -> plex_local_videos_path_mapping).")
