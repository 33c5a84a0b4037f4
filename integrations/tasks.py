"""Thin Celery tasks: the weekly re-detection of stale API results."""
from celery import shared_task

WEEKLY_TASK_NAME = "integrations.redetect_stale"


@shared_task(name=WEEKLY_TASK_NAME, expires=3600)
def redetect_stale() -> dict:
    """Re-detect every enabled service whose result is older than API_DETECTION_CACHE_SECONDS."""
    from integrations import services
    from integrations.models import Service

    results = services.detect_services(list(Service.objects.filter(enabled=True, seen=True)))
    return {"checked": len(results), "detected": sum(1 for r in results.values() if r["detected"])}


@shared_task(name="integrations.detect_service")
def detect_service(service_id: int) -> dict | None:
    from integrations import services
    from integrations.models import Service

    service = Service.objects.filter(pk=service_id).first()
    if service is None:
        return None
    return services.detect_service(service)
