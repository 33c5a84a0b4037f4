"""Progress events: JSON messages on Redis pub/sub, ``{"event": ..., "data": ...}`` (DESIGN.md, "Work")."""
import json
import logging

from django.core.cache import cache

logger = logging.getLogger("homelab.events")
CHANNEL_PREFIX = "homelab:events:"


def redis_client():
    return cache._cache.get_client(write=True)


def publish(channel: str, event: str, data: dict) -> None:
    """Publish an event; a Redis outage is logged, never raised (the row stays the truth)."""
    try:
        redis_client().publish(CHANNEL_PREFIX + channel, json.dumps({"event": event, "data": data}, default=str))
    except Exception as exc:
        logger.warning("Could not publish %s on %s: %s", event, channel, exc)
