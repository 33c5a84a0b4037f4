"""Thin Celery tasks of the channels app: ids in, the service does the work; queued after commit."""
from __future__ import annotations

from celery import shared_task
from django.db import transaction

from homelab import jobs

from . import services


def queue_refresh(provider_id: int, message: str = "Queued for refresh.") -> bool:
    """Claim the provider and queue its refresh after commit; False when one is already running."""
    token = services.claim_refresh(provider_id, message)
    if token is None:
        return False

    def queue():
        try:
            refresh_provider.delay(provider_id, token)
        except Exception as exc:
            services.release_unqueued(provider_id, token, exc)

    transaction.on_commit(queue)
    return True


@shared_task(name="channels.refresh_provider", bind=True, acks_late=True, max_retries=None)
def refresh_provider(self, provider_id: int, token: str):
    """Run the refresh claimed by ``queue_refresh``; a stale or duplicate delivery does nothing. Temporary
    failures retry under the same claim with the job kit's backoff, at most JOB_MAX_RETRIES times."""
    try:
        status = services.run_refresh(provider_id, token, may_retry=self.request.retries < jobs.max_retries())
    except jobs.RetryLater as exc:
        countdown = jobs.backoff(self.request.retries)
        services.retry_scheduled(provider_id, token, countdown)
        raise self.retry(exc=exc, countdown=countdown)
    return str(status) if status else None


@shared_task(name="channels.refresh_stale", expires=600)
def refresh_stale():
    """The beat row: free claims of lost workers, then refresh every stale enabled provider."""
    services.sweep_stale()
    started = [pk for pk in services.stale_providers() if queue_refresh(pk, "Scheduled refresh (stale).")]
    return started
