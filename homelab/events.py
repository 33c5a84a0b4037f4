"""Progress events: JSON messages on Redis pub/sub, ``{"event": ..., "data": ...}`` (DESIGN.md, "Work")."""
import json
import logging

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger("homelab.events")
# "homelab:events:" (a test run has its own, so runs on one Redis do not hear each other)
CHANNEL_PREFIX = settings.EVENTS_CHANNEL_PREFIX


def channel_name(channel: str) -> str:
    """The Redis pub/sub channel of an event channel ("epg" -> "homelab:events:epg")."""
    return CHANNEL_PREFIX + channel


def redis_client():
    return cache._cache.get_client(write=True)


def publish(channel: str, event: str, data: dict) -> None:
    """Publish an event; a Redis outage is logged, never raised (the row stays the truth)."""
    try:
        redis_client().publish(channel_name(channel), json.dumps({"event": event, "data": data}, default=str))
    except Exception as exc:
        logger.warning("Could not publish %s on %s: %s", event, channel, exc)
