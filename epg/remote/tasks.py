"""Celery tasks of the push-refresh (thin: an id in, a service call)."""
from __future__ import annotations

from celery import shared_task
from django.conf import settings

from homelab import jobs

from . import services


@shared_task(bind=True, name="epg_remote.push_refresh", max_retries=jobs.max_retries(), acks_late=True)
def push_refresh(self, link_id: int) -> str:
    """Push a refresh to one linked Dispatcharr and wait for it to end. Temporary failures (refused connection,
    timeout, 5xx) are retried at most 5 times with exponential backoff; everything else is written on the row."""
    retries = self.request.retries or 0
    try:
        return services.push_link(link_id, final_attempt=retries >= jobs.max_retries(), attempt=retries + 1)
    except services.TemporaryPushError as exc:
        countdown = settings.DISPATCHARR_RETRY_BACKOFF * (2 ** retries)
        raise self.retry(exc=exc, countdown=countdown)
