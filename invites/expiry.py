"""Expired accounts: deleted or disabled on their server (INVITES_EXPIRY_ACTION) on time.

A task is queued for each account's expiry moment and a beat sweep runs every minute as a backstop. Tasks are
queued (with an eta) only for the next few minutes: the sweep queues those of accounts expiring before its next
run. (A Redis broker hands an unacknowledged message to another worker after its visibility timeout, so an eta
weeks away would be delivered again every few hours and pile up in the workers' memory.) One action
runs per account at a time (a conditional UPDATE claims it). A server that is down keeps the account listed as
due (``last_error`` says why) and the next sweep tries again. Every action done leaves an audit row.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Q

from homelab import clock, events

from .clients import ServerError, client_for
from .models import RemoteUser, expiry_action
from .services import audit

logger = logging.getLogger("invites.expiry")

CLAIM_TIMEOUT = timedelta(minutes=5)
QUEUE_HORIZON = timedelta(minutes=5)   # expiries queued as eta tasks at most this far ahead
LOOKAHEAD = timedelta(seconds=75)      # the sweep (every minute) queues expiries up to this far ahead


def should_queue(expires, now=None) -> bool:
    return expires is not None and expires - (now or clock.now()) <= QUEUE_HORIZON


def upcoming(now=None) -> list[tuple[int, object]]:
    """(id, expires) of accounts expiring before the next sweep: each gets a task at its expiry moment."""
    now = now or clock.now()
    qs = RemoteUser.objects.filter(expires__gt=now, expires__lte=now + LOOKAHEAD)
    if expiry_action() == "disable":
        qs = qs.filter(disabled=False)
    return list(qs.order_by("expires").values_list("pk", "expires"))


def due(now=None):
    """Accounts past their expiry that still need the action."""
    now = now or clock.now()
    qs = RemoteUser.objects.filter(expires__isnull=False, expires__lte=now)
    if expiry_action() == "disable":
        qs = qs.filter(disabled=False)
    return qs


def _claim(user_id: int, now) -> bool:
    free = Q(expiry_claimed_at__isnull=True) | Q(expiry_claimed_at__lt=now - CLAIM_TIMEOUT)
    return bool(RemoteUser.objects.filter(free, pk=user_id).update(expiry_claimed_at=now))


def expire_user(user_id: int) -> str:
    """Apply the expiry action to one account when it is due. Returns what happened."""
    now = clock.now()
    user = due(now).select_related("server__service").filter(pk=user_id).first()
    if user is None:
        return "not due"
    if not _claim(user.pk, now):
        return "busy"
    action = expiry_action()
    try:
        client = client_for(user.server)
        if action == "delete":
            client.delete_account(user)
        else:
            client.disable_account(user)
    except ServerError as exc:
        RemoteUser.objects.filter(pk=user.pk).update(last_error=exc.message[:2000], expiry_claimed_at=None)
        logger.warning("Expiry of %s on %s failed (tried again next run): %s", user.username, user.server.name,
                       exc.message)
        return "error"
    except BaseException:
        RemoteUser.objects.filter(pk=user.pk).update(expiry_claimed_at=None)
        raise
    when = user.expires.isoformat()
    if action == "delete":
        audit("expired_deleted", user=user, actor="expiry", message=f"Expired {when}: deleted on the server")
        user.delete()
    else:
        RemoteUser.objects.filter(pk=user.pk).update(disabled=True, last_error="", expiry_claimed_at=None,
                                                     share_id="" if user.server.server_type == "plex" else user.share_id)
        audit("expired_disabled", user=user, actor="expiry", message=f"Expired {when}: disabled on the server")
    logger.info("Expired %s on %s: %s", user.username, user.server.name, action)
    events.publish("invites", "user_expired", {"id": user_id, "username": user.username,
                                               "server": user.server.name, "action": action})
    return action


def sweep() -> dict[str, int]:
    """Every due account, once (the beat backstop)."""
    counts: dict[str, int] = {}
    for pk in list(due().order_by("expires").values_list("pk", flat=True)):
        result = expire_user(pk)
        counts[result] = counts.get(result, 0) + 1
    return counts
