"""Thin Celery tasks of schedules and webhooks (previews.schedules, previews.webhooks); imported by the app's
``ready()`` so workers register them."""
from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from . import schedules, tasks, webhooks

logger = logging.getLogger("previews.jobs")


@shared_task(name=schedules.TASK, ignore_result=True)
def run_schedule(schedule_id: str) -> str | None:
    """Beat: a job for the schedule's library, unless one is still running there."""
    with transaction.atomic():
        job, created = schedules.start(schedule_id, by="beat")
        if created:
            tasks.queue_job(job.pk)
    return str(job.pk) if job else None


def queue_resolve(event_id: int, countdown: float = 0) -> None:
    transaction.on_commit(lambda: resolve_webhook.apply_async((event_id,), countdown=countdown or None,
                                                              queue=tasks._queue()))


@shared_task(name="previews.resolve_webhook", ignore_result=True)
def resolve_webhook(event_id: int) -> str:
    """Find a webhook's file in Plex: a one-item job, or again later (30 s, 2, 5, 15, 60 min), then failed."""
    with transaction.atomic():
        step = webhooks.resolve(event_id)
        if step.item_ids:
            transaction.on_commit(lambda: tasks.queue_items(step.item_ids))
        if step.retry_in is not None:
            queue_resolve(event_id, step.retry_in)
    return step.status
