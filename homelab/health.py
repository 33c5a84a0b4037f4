"""Checks for /healthz: each returns "ok" or a short reason."""
import logging

from django.core.cache import cache
from django.db import connection

logger = logging.getLogger("homelab.health")
WORKER_PING_TIMEOUT = 2.0


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as exc:
        logger.warning("Health: database down: %s", exc)
        return f"down: {type(exc).__name__}"


def check_redis() -> str:
    try:
        client = cache._cache.get_client(write=True)
        client.ping()
        return "ok"
    except Exception as exc:
        logger.warning("Health: redis down: %s", exc)
        return f"down: {type(exc).__name__}"


def check_worker() -> str:
    from homelab.celery import app

    try:
        replies = app.control.ping(timeout=WORKER_PING_TIMEOUT, limit=1)
    except Exception as exc:
        logger.warning("Health: worker ping failed: %s", exc)
        return f"down: {type(exc).__name__}"
    if not replies:
        return "down: no worker answered within 2 s"
    return "ok"


def check_all() -> dict:
    result = {"database": check_database(), "redis": check_redis()}
    result["worker"] = check_worker() if result["redis"] == "ok" else "down: redis is down"
    down = [name for name, value in result.items() if value != "ok"]
    return {"status": "ok" if not down else "down", **result}
