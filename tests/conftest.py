"""Shared fixtures: the embedded Redis (when REDIS_URL is unset), a real Celery worker process, fake HTTP
upstreams, API clients with each kind of credential, and a polling helper (never sleep-and-hope)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

from tests.fakes import FakeServer

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
_embedded_redis = None


def pytest_configure(config):
    global _embedded_redis
    from homelab import embedded

    if settings.EMBEDDED_REDIS:
        _embedded_redis = embedded.start(settings.DATA_DIR)


def pytest_unconfigure(config):
    import gc

    from homelab import embedded
    from homelab.celery import app

    gc.collect()  # finalise AsyncResults while Redis still answers their unsubscribe
    app.close()
    embedded.stop(_embedded_redis)
    data_dir = os.environ.get("HOMELAB_TEST_DATA_DIR")
    if data_dir and Path(data_dir).name.startswith("homelab-test-"):
        shutil.rmtree(data_dir, ignore_errors=True)


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05, message: str = "condition"):
    """Poll predicate until it returns a truthy value (returned), or fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


@pytest.fixture
def poll():
    return wait_for


def clear_test_cache() -> None:
    """Delete this run's cache keys only. ``cache.clear()`` would FLUSHDB the whole Redis database, which
    with REDIS_URL set may be shared with a running stack (and holds the Celery broker's queues)."""
    from django.core.cache import cache

    client = cache._cache.get_client(write=True)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache (throttles, cached tokens, detection results, search matches)."""
    from channels.selectors import forget_matches

    clear_test_cache()
    forget_matches()
    yield


def _test_database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{s['NAME']}"
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    host = s["HOST"] or "127.0.0.1"
    port = s["PORT"] or "5432"
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}"


class WorkerProcess:
    def __init__(self, proc: subprocess.Popen, nodename: str, log: Path):
        self.proc, self.nodename, self.log = proc, nodename, log

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_worker(name: str = "worker", extra_env: dict | None = None) -> WorkerProcess:
    """A real `celery worker` process on this run's queue, using the test database."""
    from homelab.celery import app

    nodename = f"{name}-{settings.TEST_RUN_ID}@localhost"
    log = Path(settings.DATA_DIR) / f"{name}.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": _test_database_url(),
           **(extra_env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "homelab", "worker", "-Q", settings.CELERY_TASK_DEFAULT_QUEUE,
         "-n", nodename, "--concurrency", "2", "--without-mingle", "--without-gossip", "-l", "INFO"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    worker = WorkerProcess(proc, nodename, log)

    def answered():
        if proc.poll() is not None:
            raise AssertionError(f"celery worker exited with {proc.returncode}:\n{worker.log_tail()}")
        return app.control.ping(destination=[nodename], timeout=0.5)

    try:
        wait_for(answered, timeout=60, message="the celery worker to answer a ping")
    except AssertionError:
        worker.stop()
        raise
    return worker


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """A real Celery worker process for the whole session. Tests that use it need committed data:
    use ``transactional_db`` or ``live_server``."""
    worker = start_worker()
    yield worker
    worker.stop()


@pytest.fixture
def fake_server():
    """A factory of FakeServer instances, all stopped at the end of the test."""
    servers = []

    def make() -> FakeServer:
        srv = FakeServer().start()
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        srv.stop()


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.com", "s3cret-pass")


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def admin_client_jwt(api_client, admin_user):
    """An APIClient authenticated with a JWT access token, as a Dispatcharr client would be."""
    response = api_client.post("/api/accounts/token/", {"username": "admin", "password": "s3cret-pass"}, format="json")
    assert response.status_code == 200, response.content
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return api_client


@pytest.fixture
def fixture_path():
    def get(*parts: str) -> Path:
        return FIXTURES.joinpath(*parts)

    return get


@pytest.fixture
def clock():
    """homelab.clock, moved back to real time after the test: ``clock.travel(3600)``."""
    from homelab import clock as project_clock

    yield project_clock
    project_clock.reset()
