"""The push job: after /output/epg.xml is regenerated, refresh the guide's source on each linked Dispatcharr.

``push_link(link_id)`` is what the Celery task runs. It claims the link (one push per link at a time, a
conditional UPDATE stamping ``pushing_since`` and ``heartbeat_at``; a push asked for meanwhile is remembered and
reported back as ``push_again``), makes sure the link knows its remote EPG source (discovering it by the output
file name), reads the source, ``POST /api/epg/import/``, then polls the source as the guide's
``wait_for_refresh`` does, touching the heartbeat (``homelab.jobs.Heartbeat``) as it goes, and writes the outcome
on the row. A temporary failure (``homelab.http.is_temporary``: refused connection, timeout, 5xx, 429) with
attempts left raises ``homelab.jobs.RetryLater``; the task retries after ``jobs.backoff``. Authentication failures
are counted, and past ``DISPATCHARR_AUTH_FAILURE_LIMIT`` in a row the link disables itself, saying why. A claim
whose heartbeat went stale (a worker killed mid-push) is taken over by the next push and freed by
``sweep_lost_pushes`` (a beat row, every minute). This module never queues anything: ``tasks.py`` does.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from homelab import clock, jobs
from homelab.http import HTTPError, redact_url

from .manager import DispatcharrError, EPGManager
from .models import DispatcharrLink
from .services import credentials_confirmed, discover_source

logger = logging.getLogger("epg.remote")

Result = DispatcharrLink.Result


@dataclass(frozen=True)
class PushResult:
    """``outcome``: a ``last_result`` value, or ``gone`` / ``disabled`` / ``pending`` / ``lost`` (the claim was
    taken away meanwhile); ``push_again``: the guide changed during the push, so one more is to be queued."""

    outcome: str
    push_again: bool = False


def _default_manager_factory(link: DispatcharrLink, **kwargs) -> EPGManager:
    from .clients import manager_for_link

    return manager_for_link(link, **kwargs)


def claim_push(link_id: int) -> datetime | None:
    """Claim the link for a push; returns the claim's token (``pushing_since``), or None when another push
    holds it and its heartbeat is fresh."""
    now = clock.now()
    stale = now - timedelta(seconds=settings.JOB_HEARTBEAT_STALE)
    won = DispatcharrLink.objects.filter(pk=link_id, enabled=True).filter(
        Q(pushing_since__isnull=True) | Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=stale)
    ).update(pushing_since=now, heartbeat_at=now, push_pending=False)
    return now if won == 1 else None


def release_push(link_id: int, token: datetime) -> bool:
    """Free this push's claim (not one taken over since); True when another push was asked for meanwhile."""
    mine = DispatcharrLink.objects.filter(pk=link_id, pushing_since=token)
    with transaction.atomic():
        pending = mine.filter(push_pending=True, enabled=True).update(push_pending=False, pushing_since=None,
                                                                     heartbeat_at=None)
        if not pending:
            mine.update(pushing_since=None, heartbeat_at=None)
    return bool(pending)


def sweep_lost_pushes() -> int:
    """Pushes whose worker was lost (no heartbeat for JOB_HEARTBEAT_STALE seconds) end in ``error``, saying so,
    and free their claim."""
    freed = jobs.sweep_stale(DispatcharrLink, field="last_result", running=[Result.RUNNING], to=Result.ERROR,
                             message_field="last_message", pushing_since=None, heartbeat_at=None)
    if freed:
        logger.warning("Freed %d Dispatcharr push(es) whose worker was lost", freed)
    return freed


def push_link(link_id: int, *, final_attempt: bool = True, attempt: int = 1,
              manager_factory: Callable[..., EPGManager] | None = None) -> PushResult:
    """Push a refresh to one linked Dispatcharr. Raises ``jobs.RetryLater`` when a retry may help and this is not
    the final attempt (the row says "retrying" and the claim is freed)."""
    link = DispatcharrLink.objects.filter(pk=link_id).first()
    if link is None:
        logger.info("Dispatcharr link %s is gone: nothing to push", link_id)
        return PushResult("gone")
    if not link.enabled:
        logger.info("Dispatcharr link %s is disabled: not pushing", link_id)
        return PushResult("disabled")
    token = claim_push(link_id)
    if token is None:
        DispatcharrLink.objects.filter(pk=link_id).update(push_pending=True)
        logger.info("Dispatcharr link %s: a push is already running; another one will follow it", link_id)
        return PushResult("pending")
    beat = jobs.Heartbeat(DispatcharrLink, link_id, pushing_since=token)
    outcome, retrying = Result.ERROR, False
    try:
        link.refresh_from_db()
        problem = link.unusable_reason()
        if problem:
            link.record(Result.ERROR, problem)
            logger.warning("Dispatcharr link %s: %s", link_id, problem)
            return PushResult(Result.ERROR)
        where = redact_url(link.url)
        logger.info("Dispatcharr link %s: pushing a refresh to %s (attempt %s)", link_id, where, attempt)
        link.record(Result.RUNNING, f"Pushing a refresh to {where} (attempt {attempt})…")
        try:
            manager = (manager_factory or _default_manager_factory)(link)
        except HTTPError as exc:  # a URL the client refuses
            link.record(Result.ERROR, f"Cannot reach Dispatcharr: {exc}")
            logger.warning("Dispatcharr link %s: %s", link_id, exc)
            return PushResult(Result.ERROR)
        try:
            outcome = _push(link, manager, beat)
        except DispatcharrError as exc:
            if exc.is_auth:
                outcome = _auth_failed(link, exc)
            elif exc.temporary and not final_attempt:
                link.record(Result.RETRYING, f"{exc.message}; retrying (attempt {attempt} of "
                                             f"{jobs.max_retries() + 1}).")
                logger.warning("Dispatcharr link %s: %s; will retry", link_id, exc.message)
                retrying = True
                raise jobs.RetryLater(exc.message) from None
            else:
                message = exc.message
                if exc.temporary:
                    message = f"{message} (gave up after {attempt} attempt{'s' if attempt != 1 else ''})"
                link.record(Result.ERROR, message)
                logger.warning("Dispatcharr link %s: push failed: %s", link_id, message)
                outcome = Result.ERROR
    except jobs.RetryLater:
        raise
    except Exception as exc:  # a bug must not leave the row saying "running"
        logger.exception("Dispatcharr link %s: push failed unexpectedly", link_id)
        DispatcharrLink.objects.filter(pk=link_id, pushing_since=token).update(
            last_result=Result.ERROR, last_message=f"Push failed unexpectedly: {type(exc).__name__}",
            last_attempt_at=clock.now())
        outcome = Result.ERROR
    finally:
        again = release_push(link_id, token)
    if again and not retrying:
        logger.info("Dispatcharr link %s: the guide changed during the push; pushing again", link_id)
    return PushResult(outcome, push_again=again and not retrying)


def _push(link: DispatcharrLink, manager: EPGManager, beat: jobs.Heartbeat) -> str:
    if link.epg_id is None and not _rediscover(link, manager, reason="No EPG source id is set"):
        return Result.ERROR
    before = manager.fetch_source(link.epg_id)
    if before is None:
        if not _rediscover(link, manager, reason=f"EPG source {link.epg_id} no longer exists on Dispatcharr"):
            return Result.ERROR
        before = manager.fetch_source(link.epg_id)
        if before is None:
            link.record(Result.ERROR, f"EPG source {link.epg_id} disappeared from Dispatcharr during the push.")
            return Result.ERROR
    beat()
    try:
        manager.trigger_import(link.epg_id)
    except DispatcharrError as exc:
        if exc.kind == DispatcharrError.BAD_REQUEST:
            link.record(Result.ERROR, exc.message)
            return Result.ERROR
        raise
    credentials_confirmed(link)  # the remote accepted the import: the credentials work
    beat(force=True)
    timeout = settings.DISPATCHARR_WAIT_TIMEOUT
    outcome = manager.await_completion(link.epg_id, before, timeout=timeout,
                                       poll_interval=settings.DISPATCHARR_POLL_INTERVAL, on_poll=beat)
    if outcome["final_status"] == "cancelled":
        logger.warning("Dispatcharr link %s: the push's claim was taken over (no heartbeat?); stopping", link.pk)
        return "lost"
    source = outcome.get("source") or {}
    name = source.get("name") or before.get("name") or link.epg_name
    fields = {"last_duration": round(outcome["duration"], 3)}
    if name and name != link.epg_name:
        fields["epg_name"] = name
    if outcome["final_status"] == "success":
        fields["last_sync"] = clock.now()
        link.record(Result.SUCCESS, outcome["message"], **fields)
        logger.info("Dispatcharr link %s: %s (source %s)", link.pk, outcome["message"], link.epg_id)
        return Result.SUCCESS
    if outcome["final_status"] == "error":
        remote = source.get("last_message") or ""
        message = outcome["message"] + (f": {remote}" if remote else "")
        link.record(Result.ERROR, message, **fields)
        logger.warning("Dispatcharr link %s: %s", link.pk, message)
        return Result.ERROR
    status = source.get("status")
    message = outcome["message"] + (f" (last status: {status})" if status else "")
    link.record(Result.TIMEOUT, message, **fields)
    logger.warning("Dispatcharr link %s: %s", link.pk, message)
    return Result.TIMEOUT


def _rediscover(link: DispatcharrLink, manager: EPGManager, *, reason: str) -> bool:
    result = discover_source(manager, link.output_filename)
    if not result["success"]:
        link.record(Result.ERROR, f"{reason}, and discovery failed: {result['message']}")
        logger.warning("Dispatcharr link %s: %s; discovery failed: %s", link.pk, reason, result["message"])
        return False
    logger.info("Dispatcharr link %s: %s; using the discovered source %s (%s)", link.pk, reason,
                result["epg_id"], result["epg_name"])
    link.epg_id, link.epg_name = result["epg_id"], result["epg_name"]
    link.save(update_fields=["epg_id", "epg_name", "updated_at"])
    return True


def _auth_failed(link: DispatcharrLink, exc: DispatcharrError) -> str:
    limit = settings.DISPATCHARR_AUTH_FAILURE_LIMIT
    DispatcharrLink.objects.filter(pk=link.pk).update(auth_failures=F("auth_failures") + 1)
    link.refresh_from_db(fields=["auth_failures"])
    count = link.auth_failures
    if count >= limit:
        message = (f"Disabled after {count} consecutive authentication failures: {exc.message}. "
                   "Correct the username or password (and the user's permissions), then enable the link again.")
        link.record(Result.DISABLED, message, enabled=False)
        logger.error("Dispatcharr link %s disabled: %s", link.pk, message)
        return Result.DISABLED
    message = f"{exc.message} (authentication failure {count} of {limit} before the link disables itself)"
    link.record(Result.ERROR, message)
    logger.warning("Dispatcharr link %s: %s", link.pk, message)
    return Result.ERROR
