"""A job's counts (recounted from its item rows, which are the truth), its end, and its progress events."""
from __future__ import annotations

import logging

from django.db.models import Count, Q

from homelab import clock, events

from .models import Job, JobItem
from .services import EVENTS_CHANNEL, job_complete_data

logger = logging.getLogger("previews.jobs")


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


def progress_data(job: Job, item: JobItem | None) -> dict:
    done = job.completed_items + job.failed_items + job.skipped_items + job.cancelled_items
    return {"job_id": str(job.pk), "progress": job.progress, "completed": done, "total": job.total_items,
            "current_item": item.title if item else None}
