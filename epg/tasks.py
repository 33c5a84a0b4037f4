"""Thin Celery tasks of the epg app: ids in, the service does the work (homelab/celery.py conventions).
Queueing lives here, after commit: services return what to queue and never import this module."""
import logging

from celery import shared_task
from django.db import transaction

from homelab import jobs

from . import services
from .models import EPGSource

logger = logging.getLogger("epg")


@shared_task(name="epg.import_source", bind=True, acks_late=True, max_retries=None)
def import_source(self, source_id: int, token: str):
    """Run the import claimed by ``services.request_refresh`` (a stale or duplicate delivery does nothing).
    A temporary download failure is retried (at most JOB_MAX_RETRIES times, after ``jobs.backoff``) under the
    same claim; the last attempt records the error on the row."""
    retries = self.request.retries
    try:
        status = services.run_import(source_id, token, may_retry=retries < jobs.max_retries())
    except jobs.RetryLater as exc:
        raise self.retry(exc=exc, countdown=jobs.backoff(retries), max_retries=jobs.max_retries())
    if status == EPGSource.Status.SUCCESS:
        queue_after_import(source_id)
    return str(status) if status else None


def request_import(source: EPGSource) -> bool:
    """Claim ``source`` and queue its import after commit; False when one is already running (nothing new
    started). Raises ``services.RefreshRefused``. For the API, the admin and ``refresh_epg``."""
    token = services.request_refresh(source)
    if token is None:
        return False

    def queue():
        try:
            import_source.delay(source.pk, token)
        except Exception as exc:
            services.queue_failed(source.pk, token, exc)

    transaction.on_commit(queue)
    return True


@shared_task(name="epg.refresh_due", expires=3600)
def refresh_due(source_id: int):
    """The periodic refresh of one source (a django-celery-beat row per source), run in this task."""
    token = services.claim_due(source_id)
    if token and services.run_import(source_id, token) == EPGSource.Status.SUCCESS:
        queue_after_import(source_id)  # a temporary failure waits for the next interval


@shared_task(name="epg.after_import")
def after_import(source_id: int):
    """Drop the replaced guide generation, then regenerate /output/epg.xml."""
    services.after_import(source_id)


@shared_task(name="epg.regenerate_output")
def regenerate_output(source_id=None):
    return str(services.regenerate_output(source_id))


def queue_after_import(source_id: int) -> None:
    def queue():
        try:
            after_import.delay(source_id)
        except Exception as exc:
            logger.error("Could not queue the clean-up and output of EPG source %s: %s", source_id, exc)

    transaction.on_commit(queue)


def queue_output() -> None:
    """Regenerate /output/epg.xml after commit (the set of active sources or their priorities changed)."""
    def queue():
        try:
            regenerate_output.delay(None)
        except Exception as exc:
            logger.error("Could not queue the regeneration of %s: %s", services.OUTPUT_FILENAME, exc)

    transaction.on_commit(queue)
