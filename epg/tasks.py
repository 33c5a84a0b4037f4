"""Thin Celery tasks of the epg app: ids in, the service does the work (homelab/celery.py conventions)."""
from celery import shared_task

from . import services


@shared_task(name="epg.import_source", acks_late=True)
def import_source(source_id: int, token: str):
    """Run the import claimed by ``services.request_refresh`` (a stale or duplicate delivery does nothing)."""
    status = services.run_import(source_id, token)
    return str(status) if status else None


@shared_task(name="epg.refresh_due", expires=3600)
def refresh_due(source_id: int):
    """The periodic refresh of one source (a django-celery-beat row per source)."""
    services.refresh_due(source_id)


@shared_task(name="epg.regenerate_output")
def regenerate_output(source_id=None):
    return str(services.regenerate_output(source_id))


@shared_task(name="epg.sweep_stuck", expires=600)
def sweep_stuck():
    return services.sweep_stuck()
