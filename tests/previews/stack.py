"""One live previews stack for the part-2 end-to-end tests (WebSocket, browser, beat): the web server as
`make run` serves it (uvicorn: HTTP and /previews/ws/jobs) and a Celery worker on a queue of its own, both on
this run's database and Redis, with the slow-capable ffmpeg of tests/previews/workers.py. Session-scoped (one
start for every module that uses it); the queue is not the one of test_e2e_jobs.py's worker pair, so neither
takes the other's items."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import ROOT, WorkerProcess, _test_database_url, wait_for
from tests.live import WebServer

from . import workers


def queue_name() -> str:
    return f"{settings.CELERY_TASK_DEFAULT_QUEUE}-previews2"


@dataclass
class Stack:
    web: WebServer
    worker: WorkerProcess
    queue: str
    frames: Path


def spawn_worker(name: str, env: dict) -> WorkerProcess:
    nodename = f"{name}-{settings.TEST_RUN_ID}@localhost"
    log = Path(settings.DATA_DIR) / f"{name}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "homelab", "worker", "-Q", env["PREVIEWS_QUEUE"], "-n", nodename,
         "--concurrency", "3", "--without-mingle", "--without-gossip", "-l", "INFO"],
        cwd=ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings",
                       "DATABASE_URL": _test_database_url(), **env},
        stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    return WorkerProcess(proc, nodename, log)


def wait_until_up(worker: WorkerProcess) -> None:
    from homelab.celery import app

    proc, nodename = worker.proc, worker.nodename

    def answered():
        if proc.poll() is not None:
            raise AssertionError(f"celery worker exited with {proc.returncode}:\n{worker.log_tail()}")
        return app.control.ping(destination=[nodename], timeout=0.5)

    try:
        wait_for(answered, timeout=60, message=f"the celery worker {nodename}")
    except AssertionError:
        worker.stop()
        raise


@pytest.fixture(scope="session")
def previews_stack(django_db_setup, django_db_blocker, tmp_path_factory):
    base = tmp_path_factory.mktemp("previews-stack")
    frames = base / "frames"
    frames.mkdir()
    env = {"PREVIEWS_QUEUE": queue_name(), "FFMPEG_PATH": str(workers.slow_ffmpeg(base)),
           "PREVIEWS_TMP_DIR": str(frames), "JOB_HEARTBEAT_INTERVAL": "0.5", "REALTIME_HEARTBEAT_SECONDS": "1"}
    worker = spawn_worker("previews2-worker", env)  # boots while the web server starts
    try:
        web = WebServer(base, env=env)
    except BaseException:
        worker.stop()
        raise
    try:
        wait_until_up(worker)
    except BaseException:
        web.stop()
        raise
    yield Stack(web, worker, queue_name(), frames)
    if worker.proc.poll() is None:
        worker.proc.send_signal(__import__("signal").SIGQUIT)
    worker.stop()
    web.stop()


@pytest.fixture
def stack_queue(previews_stack, settings):
    """Jobs queued from the test process go to the stack's worker."""
    settings.PREVIEWS_QUEUE = previews_stack.queue
    return previews_stack
