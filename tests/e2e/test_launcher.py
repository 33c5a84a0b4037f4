"""`make run`'s launcher (manage.py serve): starts the web server, a worker, beat and the embedded Redis on
a free port with a temporary data dir; /healthz answers; SIGTERM stops everything, leaving no process."""
import subprocess
import sys

import pytest

from homelab import embedded
from tests.conftest import ROOT
from tests.live import LiveStack, descendants, http_json

pytestmark = pytest.mark.e2e


def test_it_runs_two_stacks_side_by_side_and_stops_them_cleanly(tmp_path):
    first, second = LiveStack(tmp_path), LiveStack(tmp_path)
    try:
        for stack in (first, second):
            assert stack.health(200) == {"status": "ok", "database": "ok", "redis": "ok", "worker": "ok"}
            assert (stack.data_dir / "homelab.sqlite3").exists()
            assert (stack.data_dir / "redis.sock").exists()
            # web server, worker (and its pool), beat, embedded Redis
            assert len(descendants(stack.proc.pid)) >= 4

        # the admin user from HOMELAB_ADMIN_USER / HOMELAB_ADMIN_PASSWORD can log in
        status, me = http_json(f"{first.url}/api/accounts/me/",
                               headers={"Authorization": f"Bearer {first.access_token()}"})
        assert status == 200 and me["username"] == "admin" and me["credential"] == "jwt"

        # a generated web token is logged once as "Token: ..."
        assert first.output().count("Token: ") == 1

        # a manage.py command in another terminal, with the same data dir, reaches the same Redis and worker
        shell = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c",
             "from homelab.celery import ping; print(ping.delay().get(timeout=30))"],
            cwd=ROOT, env=first.env, capture_output=True, text=True, timeout=90,
        )
        assert shell.returncode == 0, shell.stderr
        assert shell.stdout.strip().splitlines()[-1] == "pong"
    finally:
        codes = [stack.stop() for stack in (first, second)]
    assert codes == [0, 0]
    for stack in (first, second):
        assert "Stopping." in stack.output()
        assert not embedded.is_up(stack.data_dir / "redis.sock")


def test_health_is_503_naming_the_worker_when_none_runs(tmp_path):
    stack = LiveStack(tmp_path, "--no-worker", "--no-beat")
    try:
        body = stack.health(503)
        assert body["status"] == "down"
        assert body["database"] == "ok" and body["redis"] == "ok"
        assert body["worker"] == "down: no worker answered within 2 s"
    finally:
        assert stack.stop() == 0
