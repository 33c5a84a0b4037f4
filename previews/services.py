"""Writes of the previews app: settings, the setup wizard, jobs (create, cancel, delete).

The job pipeline itself (listing a library, running one item, finishing a job, sweeping lost items) is in
``previews.pipeline``.
"""
from __future__ import annotations

import logging

from django.db import transaction

from homelab import clock, events, webtoken
from homelab.logging import register_secret
from integrations.models import Service, unique_slug

from .models import Job, JobItem, PreviewSettings, SetupState

logger = logging.getLogger("previews")
EVENTS_CHANNEL = "previews"
PLEX_SERVICE_NAME = "Plex"
MIN_TOKEN_LENGTH = 8
TOKEN_MISMATCH = "Tokens do not match."
TOKEN_TOO_SHORT = "Token must be at least 8 characters long."
TOKEN_ENV_CONTROLLED = "Token is controlled by WEB_AUTH_TOKEN environment variable and cannot be changed."

SETTINGS_FIELDS = ("plex_name", "plex_config_folder", "selected_libraries", "media_path",
                   "plex_videos_path_mapping", "plex_local_videos_path_mapping", "gpu_threads", "cpu_threads",
                   "thumbnail_interval", "thumbnail_quality")


class TokenRefused(Exception):
    """set-token refused: one of the contract's three messages."""


# --- settings -------------------------------------------------------------------------------------

def _plex_service(row: PreviewSettings) -> Service:
    if row.plex_service_id:
        return row.plex_service
    name = PLEX_SERVICE_NAME
    if Service.objects.filter(name=name).exists():
        name = f"{PLEX_SERVICE_NAME} (previews)"
        if Service.objects.filter(name=name).exists():
            name = unique_slug(name)
    return Service(name=name, source=Service.Source.MANUAL, service_type="plex", api_auth_type="plex",
                   api_auth_type_locked=True)


@transaction.atomic
def save_settings(values: dict) -> PreviewSettings:
    """Write validated settings (``previews.api.serializers.SettingsInput``): all of them or, on error, none
    (the serializer refuses the whole request before this runs). ``plex_url`` and ``plex_token`` go to the
    linked Plex Service, created (source manual) on first use; ``plex_token`` ``"****"`` keeps the stored one."""
    row = PreviewSettings.objects.select_for_update().filter(pk=PreviewSettings.load().pk).first()
    changed = []
    for field in SETTINGS_FIELDS:
        if field in values:
            setattr(row, field, values[field])
            changed.append(field)
    url, token = values.get("plex_url"), values.get("plex_token")
    if token == "****":
        token = None
    if url is not None or token is not None:
        service = _plex_service(row)
        if url is not None:
            service.api_url = url.rstrip("/")
            service.api_url_locked = True
        if token is not None:
            service.api_key = token
            if token:
                register_secret(token)
        service.save()
        if row.plex_service_id != service.pk:
            row.plex_service = service
            changed.append("plex_service")
    row.save()
    logger.info("Preview settings saved (%s)", ", ".join(changed + [f for f in ("plex_url", "plex_token")
                                                                    if values.get(f) is not None]) or "nothing")
    return row


# --- setup wizard ----------------------------------------------------------------------------------

def save_setup_state(*, step: int, data: dict) -> SetupState:
    state = SetupState.load()
    state.step, state.data = step, data
    state.save(update_fields=["step", "data", "updated_at"])
    return state


def complete_setup() -> SetupState:
    state = SetupState.load()
    state.completed, state.completed_at = True, clock.now()
    state.save(update_fields=["completed", "completed_at", "updated_at"])
    logger.info("Previews setup completed")
    return state


def set_web_token(token: str, confirm: str) -> None:
    """The wizard's custom web token; raises TokenRefused with the contract's message."""
    if webtoken.is_env_controlled():
        raise TokenRefused(TOKEN_ENV_CONTROLLED)
    if token != confirm:
        raise TokenRefused(TOKEN_MISMATCH)
    if len(token) < MIN_TOKEN_LENGTH:
        raise TokenRefused(TOKEN_TOO_SHORT)
    webtoken.set_web_token(token)
    logger.warning("The web token was changed in the setup wizard; the old one no longer works.")


# --- jobs ------------------------------------------------------------------------------------------

def create_job(*, library_id: str, library_name: str = "") -> Job:
    job = Job.objects.create(library_id=library_id, library_name=library_name)
    logger.info("Job %s created for library %s (%s)", job.pk, library_id, library_name or "name unknown")
    return job


def cancel_job(job_id) -> bool:
    """Cancel a pending or running job: its queued items are cancelled at once; running ones see the status
    through generate_bif's cancel callable and stop within a couple of seconds. False when already finished."""
    now = clock.now()
    with transaction.atomic():
        won = Job.objects.filter(pk=job_id, status__in=Job.ACTIVE).update(
            status=Job.Status.CANCELLED, finished_at=now, last_error="Cancelled by the user.")
        if won:
            JobItem.objects.filter(job_id=job_id, status=JobItem.Status.PENDING).update(
                status=JobItem.Status.CANCELLED, finished_at=now)
    if won:
        logger.info("Job %s cancelled", job_id)
        from .progress import recount

        job = recount(job_id)
        if job is not None:
            events.publish(EVENTS_CHANNEL, "job_complete", job_complete_data(job))
    return bool(won)


def delete_job(job_id) -> bool:
    """Delete a job from history; a job still running is cancelled first (its item tasks find it gone)."""
    cancel_job(job_id)
    deleted, _ = Job.objects.filter(pk=job_id).delete()
    if deleted:
        logger.info("Job %s deleted", job_id)
    return bool(deleted)


def job_complete_data(job: Job) -> dict:
    return {"job_id": str(job.pk), "status": job.status, "progress": job.progress, "total": job.total_items,
            "completed": job.completed_items, "failed": job.failed_items, "skipped": job.skipped_items,
            "error": job.last_error or None}
