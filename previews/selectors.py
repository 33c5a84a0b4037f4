"""Reads of the previews app, shaped as the contract answers them."""
from __future__ import annotations

import logging

from django.db.models import Count

from homelab import webtoken

from . import slots
from .models import Job, PreviewSettings, SetupState

logger = logging.getLogger("previews")
JOB_LIST_LIMIT = 200
GPU_CACHE_KEY = "previews:gpus"
GPU_CACHE_SECONDS = 60


def settings_payload() -> dict:
    row = PreviewSettings.load()
    return {
        "plex_url": row.plex_url,
        "plex_token": "****" if row.plex_token else "",
        "plex_name": row.plex_name,
        "plex_config_folder": row.plex_config_folder,
        "selected_libraries": [str(x) for x in row.selected_libraries or []],
        "media_path": row.media_path,
        "plex_videos_path_mapping": row.plex_videos_path_mapping,
        "plex_local_videos_path_mapping": row.plex_local_videos_path_mapping,
        "gpu_threads": row.gpu_threads,
        "cpu_threads": row.cpu_threads,
        "thumbnail_interval": row.thumbnail_interval,
        "thumbnail_quality": row.thumbnail_quality,
    }


def system_config() -> dict:
    row = PreviewSettings.load()
    return {"plex_url": row.plex_url, "gpu_threads": row.gpu_threads, "cpu_threads": row.cpu_threads,
            "thumbnail_interval": row.thumbnail_interval, "thumbnail_quality": row.thumbnail_quality}


def setup_status() -> dict:
    row, state = PreviewSettings.load(), SetupState.load()
    return {"configured": bool(row.plex_url and row.plex_token), "setup_complete": state.completed,
            "current_step": state.step, "plex_authenticated": bool(row.plex_token)}


def token_info() -> dict:
    token = webtoken.get_web_token()
    env = webtoken.is_env_controlled()
    return {"env_controlled": env, "token": token, "token_length": len(token),
            "source": "environment" if env else "config"}


def workers() -> list[dict]:
    """The ffmpeg slots as the contract's workers: the configured GPU slots then the CPU slots, each working
    (with the title it is on) or idle. A slot still held above a lowered limit shows until it ends."""
    row = PreviewSettings.load()
    found, next_id = [], 0
    for kind, limit in (("gpu", row.gpu_threads), ("cpu", row.cpu_threads)):
        try:
            leases = slots.held(kind)
        except Exception as exc:  # Redis down: show the slots as idle rather than fail the job view
            logger.warning("Could not read the %s slots: %s", kind, exc)
            leases = {}
        for slot in range(max([limit] + [s + 1 for s in leases])):
            lease = leases.get(slot)
            found.append({"id": next_id, "type": kind, "status": "working" if lease else "idle",
                          "current_item": (lease or {}).get("title")})
            next_id += 1
    return found


def job_summary(job: Job) -> dict:
    return {
        "id": str(job.pk),
        "status": job.status,
        "library_id": job.library_id,
        "library_name": job.library_name,
        "progress": job.progress,
        "total_items": job.total_items,
        "completed_items": job.completed_items,
        "failed_items": job.failed_items,
        "skipped_items": job.skipped_items,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "error": job.last_error or None,
    }


def job_detail(job: Job) -> dict:
    return {**job_summary(job), "workers": workers()}


def job_list(limit: int = JOB_LIST_LIMIT) -> list[Job]:
    return list(Job.objects.all()[:limit])


def find_job(job_id) -> Job | None:
    """The job with this id, or None (also for ids that are not UUIDs)."""
    import uuid

    try:
        uuid.UUID(str(job_id))
    except ValueError:
        return None
    return Job.objects.filter(pk=job_id).first()


def jobs_by_status() -> dict:
    counts = {status: 0 for status in Job.Status.values}
    for row in Job.objects.values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    return counts


def gpus() -> list[dict]:
    """Every GPU found, usable or not (with the reason), from previews.gpu.detect_gpus; kept a minute in the
    cache (each detection test-decodes a second of video on every device)."""
    from django.core.cache import cache

    from .gpu import detect_gpus

    found = cache.get(GPU_CACHE_KEY)
    if found is None:
        found = [gpu.as_dict() for gpu in detect_gpus()]
        cache.set(GPU_CACHE_KEY, found, GPU_CACHE_SECONDS)
    return found


def system_status() -> dict:
    row = PreviewSettings.load()
    return {"gpus": gpus(), "workers": {"gpu": row.gpu_threads, "cpu": row.cpu_threads},
            "jobs": jobs_by_status()}
