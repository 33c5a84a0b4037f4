"""The state of running jobs as the live events describe it, for a browser that (re)connects to
``/previews/ws/jobs`` (``previews.realtime``): a ``job_progress`` per pending or running job, then a
``worker_update`` per ffmpeg slot at work, in the shapes the pipeline publishes them."""
from __future__ import annotations

import logging

from . import slots
from .models import Job, JobItem
from .progress import progress_data

logger = logging.getLogger("previews")


def current_events() -> list[dict]:
    found = []
    for job in Job.objects.filter(status__in=Job.ACTIVE).order_by("created_at"):
        running = JobItem.objects.filter(job=job, status=JobItem.Status.RUNNING).order_by("-started_at").first()
        found.append({"event": "job_progress", "data": progress_data(job, running)})
    for kind in slots.KINDS:
        try:
            leases = slots.held(kind)
        except Exception as exc:  # Redis down: the jobs' rows are still worth sending
            logger.warning("Could not read the %s slots: %s", kind, exc)
            continue
        for slot, lease in sorted(leases.items()):
            found.append({"event": "worker_update", "data": {
                "worker_id": f"{kind}-{slot}", "type": kind, "status": "working",
                "current_item": lease.get("title"), "job_id": lease.get("job_id")}})
    return found
