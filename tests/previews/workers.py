"""Celery worker processes for the previews end-to-end tests, on a queue of their own (PREVIEWS_QUEUE), so a
session worker started by other test modules does not take their items."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from tests.conftest import ROOT, WorkerProcess, _test_database_url, wait_for

SLOW_FFMPEG = """#!/bin/sh
# Real ffmpeg; thumbnailing a file whose name starts with "slow-" reads it at its native rate (-re), so an item
# runs for as long as its clip lasts and a test can act while it runs.
case "$*" in
  *slow-*%06d.jpg*) exec {ffmpeg} -re "$@" ;;
esac
exec {ffmpeg} "$@"
"""


def queue_name() -> str:
    return f"{settings.CELERY_TASK_DEFAULT_QUEUE}-previews"


def slow_ffmpeg(folder: Path) -> Path:
    from previews.media import ffmpeg_path

    script = folder / "ffmpeg"
    script.write_text(SLOW_FFMPEG.format(ffmpeg=ffmpeg_path()))
    script.chmod(0o755)
    return script


def start(names: list[str], env: dict) -> list[WorkerProcess]:
    """Start the workers at once and wait until each answers a ping (they boot in parallel)."""
    from homelab.celery import app

    started = []
    for name in names:
        nodename = f"{name}-{settings.TEST_RUN_ID}@localhost"
        log = Path(settings.DATA_DIR) / f"{name}.log"
        full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings",
                    "DATABASE_URL": _test_database_url(), "PREVIEWS_QUEUE": queue_name(), **env}
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "homelab", "worker", "-Q", queue_name(), "-n", nodename,
             "--concurrency", "2", "--without-mingle", "--without-gossip", "-l", "INFO"],
            cwd=ROOT, env=full_env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        started.append(WorkerProcess(proc, nodename, log))

    def answered(worker):
        if worker.proc.poll() is not None:
            raise AssertionError(f"celery worker exited with {worker.proc.returncode}:\n{worker.log_tail()}")
        return app.control.ping(destination=[worker.nodename], timeout=0.5)

    try:
        for worker in started:
            wait_for(lambda: answered(worker), timeout=60, message=f"the celery worker {worker.nodename}")
    except AssertionError:
        for worker in started:
            worker.stop()
        raise
    return started


def kill(worker: WorkerProcess) -> None:
    """SIGKILL the worker and its pool processes (a machine that lost power); ffmpeg dies with its parent."""
    try:
        os.killpg(worker.proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    worker.proc.wait(10)


def stop(started: list[WorkerProcess]) -> None:
    """SIGQUIT them all at once (a cold shutdown: the tests are over, no task is left to finish), then wait."""
    for worker in started:
        if worker.proc.poll() is None:
            worker.proc.send_signal(signal.SIGQUIT)
    for worker in started:
        worker.stop()
