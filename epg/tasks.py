"""Thin Celery tasks of the epg app: ids in, the service does the work (homelab/celery.py conventions)."""
from celery import shared_task

from . import services


MAX_RETRIES = 5


@shared_task(name="epg.import_source", bind=True, acks_late=True, max_retries=MAX_RETRIES)
def import_source(self, source_id: int, token: str):
    """Run the import claimed by ``services.request_refresh`` (a stale or duplicate delivery does nothing).
    A temporary download failure is retried (at most 5 times, backoff 10 s, 20 s, 40 s ...) under the same
    claim; the last attempt records the error on the row."""
    try:
        status = services.run_import(source_id, token, may_retry=self.request.retries < MAX_RETRIES)
    except services.RetryLater as exc:
        raise self.retry(exc=exc, countdown=min(600, 10 * 2 ** self.request.retries))
    return str(status) if status else None


@shared_task(name="epg.refresh_due", expires=3600)
def refresh_due(source_id: int):
    """The periodic refresh of one source (a django-celery-beat row per source)."""
    services.refresh_due(source_id)  # a temporary failure waits for the next interval


@shared_task(name="epg.after_import")
def after_import(source_id: int):
    """Drop the replaced guide generation, then regenerate /output/epg.xml."""
    services.after_import(source_id)


@shared_task(name="epg.regenerate_output")
def regenerate_output(source_id=None):
    return str(services.regenerate_output(source_id))


@shared_task(name="epg.sweep_stuck", expires=600)
def sweep_stuck():
    return services.sweep_stuck()
