"""/healthz: database, Redis and a live worker (the 503 case runs in tests/e2e/test_launcher.py,
where a stack with no worker at all is started)."""
import pytest


@pytest.mark.e2e
def test_it_is_ok_when_a_real_worker_answers(api_client, celery_worker, db):
    response = api_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok", "worker": "ok"}


def test_it_is_503_naming_redis_when_redis_is_down(api_client, db, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    response = api_client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["database"] == "ok"
    assert body["redis"].startswith("down")
    assert body["worker"].startswith("down")


def test_it_needs_no_credentials(api_client, db):
    assert api_client.get("/healthz").status_code in (200, 503)
