"""Thin Celery tasks of the previews app: ids in, the pipeline does the work (previews.pipeline)."""
from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction

from homelab.jobs import RetryLater, backoff, max_retries

from . import pipeline, planning

logger = logging.getLogger("previews.jobs")
REQUEUE_COUNTDOWN = 1


def queue_job(job_id) -> None:
    """Queue a job's start once the transaction that created it commits."""
    transaction.on_commit(lambda: start_job.apply_async((str(job_id),), queue=_queue()))


def _queue() -> str | None:
    return settings.PREVIEWS_QUEUE or None


def queue_items(item_ids) -> None:
    for item_id in item_ids:
        process_item.apply_async((item_id,), queue=_queue())


@shared_task(name="previews.start_job", bind=True, ignore_result=True)
def start_job(self, job_id: str) -> None:
    """List the library and queue one task per item (a second delivery finds the job claimed: nothing). A Plex
    server that is down is retried with backoff (JOB_MAX_RETRIES); then the job fails with the reason."""
    try:
        item_ids = planning.plan_job(job_id, retries_left=self.request.retries < max_retries())
    except RetryLater as exc:
        raise self.retry(countdown=backoff(self.request.retries), max_retries=max_retries(), exc=exc) from None
    queue_items(item_ids)


@shared_task(name="previews.process_item", bind=True, ignore_result=True)
def process_item(self, item_id: int) -> str:
    """One video: claimed by exactly one worker, in a GPU or CPU slot."""
    outcome = pipeline.run_item(item_id, worker=self.request.hostname or "")
    if outcome.status == "requeue":
        process_item.apply_async((item_id,), countdown=REQUEUE_COUNTDOWN, queue=_queue())
    return outcome.status


@shared_task(name="previews.sweep_stale", ignore_result=True, expires=120)
def sweep_stale() -> int:
    """Beat: items of lost workers back to the queue (their heartbeat went stale), finished jobs closed."""
    item_ids = pipeline.sweep_lost_items()
    queue_items(item_ids)
    for job_id in pipeline.lost_job_starts():
        start_job.apply_async((job_id,), queue=_queue())
    return len(item_ids)
