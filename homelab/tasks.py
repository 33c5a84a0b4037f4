"""Tasks of the platform itself."""
from celery import shared_task

from homelab import jobs


@shared_task(name="homelab.sweep_jobs", expires=60)
def sweep_jobs() -> dict:
    """Free the claims of every registered job model whose worker was lost (beat, every 30 s)."""
    return jobs.sweep_all()
