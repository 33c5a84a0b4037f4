"""The Celery app.

Task conventions (DESIGN.md, "Work"):
- tasks take ids (JSON arguments only), re-fetch their row and return quietly when it is gone;
- a long job claims its row with a conditional UPDATE (``homelab.jobs.claim``) so a duplicate delivery
  starts nothing, and always leaves the row in a terminal status in ``finally``;
- only temporary errors are retried (``autoretry_for`` a temporary ``homelab.http.HTTPError``,
  backoff, at most 5 retries); permanent errors are written to the row at once;
- callers queue tasks with ``transaction.on_commit`` so the worker sees the committed row;
- periodic tasks are django-celery-beat rows (DatabaseScheduler), editable in the admin.
"""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homelab.settings")

app = Celery("homelab")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=3600,
    task_track_started=True,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    beat_scheduler="homelab.beat:SafeDatabaseScheduler",  # a bad row is logged and skipped,
)
app.autodiscover_tasks()


@app.task(name="homelab.ping")
def ping() -> str:
    return "pong"
