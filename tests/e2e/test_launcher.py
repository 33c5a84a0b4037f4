"""`make run`'s launcher (manage.py serve): starts the web server, a worker, beat and the embedded Redis on
a free port with a temporary data dir; /healthz answers; SIGTERM stops everything, leaving no process."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, wait_for

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, data: dict | None = None):
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None, None


def descendants(pid: int) -> set[int]:
    """Every live process below pid, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Stack:
    def __init__(self, tmp_path: Path, *extra_args: str):
        self.port = free_port()
        self.data_dir = tmp_path / f"data-{self.port}"
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE") and not k.startswith("HOMELAB_")}
        self.env.update(
            HOMELAB_DATA_DIR=str(self.data_dir),
            HOMELAB_ENCRYPTION_KEY_FILE=str(self.data_dir / "encryption.key"),
            HOMELAB_ADMIN_USER="admin",
            HOMELAB_ADMIN_PASSWORD="launcher-pass-1",
            PORT=str(self.port),
            CELERY_WORKER_CONCURRENCY="1",
        )
        self.log = (tmp_path / f"serve-{self.port}.log").open("w")
        self.proc = subprocess.Popen([sys.executable, "manage.py", "serve", *extra_args], cwd=ROOT, env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()

    def health(self, expect: int, timeout: float = 120):
        def check():
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited with {self.proc.returncode}:\n{self.output()[-3000:]}")
            status, body = get(f"{self.url}/healthz")
            return status == expect and body

        return wait_for(check, timeout=timeout, interval=0.2, message=f"/healthz to answer {expect}")

    def stop(self) -> int:
        tree = descendants(self.proc.pid)
        assert tree, "serve started no child process"
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        wait_for(lambda: not any(alive(p) for p in tree), timeout=30, message="every child process to exit")
        return code


def test_it_runs_two_stacks_side_by_side_and_stops_them_cleanly(tmp_path):
    first, second = Stack(tmp_path), Stack(tmp_path)
    try:
        for stack in (first, second):
            assert stack.health(200) == {"status": "ok", "database": "ok", "redis": "ok", "worker": "ok"}
            assert (stack.data_dir / "homelab.sqlite3").exists()
            assert (stack.data_dir / "redis.sock").exists()

        # the admin user from HOMELAB_ADMIN_USER / HOMELAB_ADMIN_PASSWORD can log in
        status, tokens = get(f"{first.url}/api/accounts/token/", {"username": "admin", "password": "launcher-pass-1"})
        assert status == 200 and set(tokens) == {"access", "refresh"}

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
        assert not (stack.data_dir / "redis.sock").exists() or not _redis_answers(stack.data_dir / "redis.sock")


def _redis_answers(path: Path) -> bool:
    from homelab import embedded

    return embedded.is_up(path)


def test_health_is_503_naming_the_worker_when_none_runs(tmp_path):
    stack = Stack(tmp_path, "--no-worker", "--no-beat")
    try:
        body = stack.health(503)
        assert body["status"] == "down"
        assert body["database"] == "ok" and body["redis"] == "ok"
        assert body["worker"] == "down: no worker answered within 2 s"
    finally:
        assert stack.stop() == 0
