"""Celery tasks of the push-refresh (thin: an id in, a service call), and the queueing of pushes.

Queueing lives here, with ``transaction.on_commit``, so the worker sees the committed rows; the services and the
push (``pushes.py``) never import this module, they return what is to be queued (``PushResult.push_again``).
"""
from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from homelab import jobs

from . import pushes, selectors

logger = logging.getLogger("epg.remote")


@shared_task(bind=True, name="epg_remote.push_refresh", max_retries=jobs.max_retries(), acks_late=True)
def push_refresh(self, link_id: int) -> str:
    """Push a refresh to one linked Dispatcharr and wait for it to end. A temporary failure (``jobs.RetryLater``)
    is retried after ``jobs.backoff(attempt)``, at most ``jobs.max_retries()`` times; everything else is written
    on the row. When the guide changed during the push, one more push is queued."""
    retries = self.request.retries or 0
    try:
        result = pushes.push_link(link_id, final_attempt=retries >= jobs.max_retries(), attempt=retries + 1)
    except jobs.RetryLater as exc:
        raise self.retry(exc=exc, countdown=jobs.backoff(retries))
    if result.push_again:
        queue_push(link_id)
    return result.outcome


@shared_task(name="epg_remote.sweep_lost_pushes", expires=60)
def sweep_lost_pushes() -> int:
    return pushes.sweep_lost_pushes()


def queue_push(link_id: int) -> None:
    """Queue the push task once the current transaction commits (never run it in a web request)."""
    transaction.on_commit(lambda: push_refresh.delay(link_id), robust=True)


def on_output_regenerated(sender=None, filename: str = "epg.xml", source_id=None, **kwargs) -> None:
    """Receiver of ``epg.signals.output_regenerated``: queue a push for every enabled link. Never raises."""
    try:
        ids = selectors.enabled_link_ids()
    except Exception:
        logger.exception("Could not read the Dispatcharr links after %s was regenerated", filename)
        return
    for link_id in ids:
        try:
            queue_push(link_id)
        except Exception:
            logger.exception("Could not queue the push to Dispatcharr link %s", link_id)
    if ids:
        logger.info("%s regenerated (import of source %s): pushing to %d Dispatcharr link(s)", filename, source_id,
                    len(ids))
