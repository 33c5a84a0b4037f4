"""Checks for /healthz: each returns "ok" or a short reason."""
import logging

from django.core.cache import cache
from django.db import connection

logger = logging.getLogger("homelab.health")
WORKER_PING_TIMEOUT = 2.0


def _probe(name: str, check) -> str:
    """Run check(); "ok", or "down: <exception type>" with the failure logged."""
    try:
        check()
        return "ok"
    except Exception as exc:
        logger.warning("Health: %s down: %s", name, exc)
        return f"down: {type(exc).__name__}"


def _select_one():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_database() -> str:
    return _probe("database", _select_one)


def check_redis() -> str:
    return _probe("redis", lambda: cache._cache.get_client(write=True).ping())


def check_worker() -> str:
    from homelab.celery import app

    replies = []
    status = _probe("worker", lambda: replies.extend(app.control.ping(timeout=WORKER_PING_TIMEOUT, limit=1)))
    if status == "ok" and not replies:
        return "down: no worker answered within 2 s"
    return status


def check_all() -> dict:
    result = {"database": check_database(), "redis": check_redis()}
    result["worker"] = check_worker() if result["redis"] == "ok" else "down: redis is down"
    down = [name for name, value in result.items() if value != "ok"]
    return {"status": "ok" if not down else "down", **result}
