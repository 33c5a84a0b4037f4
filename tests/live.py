"""A whole homelab stack (`manage.py serve`, as `make run` starts it) in a subprocess, for end-to-end tests:
its own port, data dir, SQLite and embedded Redis, an admin user, and a clean stop with SIGTERM."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import ROOT, wait_for

# Variables of the test process that must not leak into the stack (it runs on the embedded defaults).
CLEARED = ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "CACHE_KEY_PREFIX", "WEB_AUTH_TOKEN", "SECRET_KEY",
           "PORT", "HOST")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(url: str, data: dict | None = None, headers: dict | None = None):
    """(status, parsed JSON body) or (None, None) when nothing answers."""
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **(headers or {})})
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


class LiveStack:
    """``manage.py serve`` on a free port with its own data dir (under ``base``)."""

    def __init__(self, base: Path, *extra_args: str, admin: tuple[str, str] = ("admin", "launcher-pass-1"),
                 env: dict | None = None):
        self.port = free_port()
        self.data_dir = base / f"data-{self.port}"
        self.admin = admin
        self.env = {k: v for k, v in os.environ.items() if k not in CLEARED and not k.startswith("HOMELAB_")}
        self.env.update(
            HOMELAB_DATA_DIR=str(self.data_dir),
            HOMELAB_ENCRYPTION_KEY_FILE=str(self.data_dir / "encryption.key"),
            HOMELAB_ADMIN_USER=admin[0],
            HOMELAB_ADMIN_PASSWORD=admin[1],
            PORT=str(self.port),
            CELERY_WORKER_CONCURRENCY="1",
        )
        self.env.update(env or {})
        self.log = base / f"serve-{self.port}.log"
        self.proc = subprocess.Popen([sys.executable, "manage.py", "serve", *extra_args], cwd=ROOT, env=self.env,
                                     stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def health(self, expect: int = 200, timeout: float = 120):
        """Wait until /healthz answers ``expect``; returns its body."""

        def check():
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited with {self.proc.returncode}:\n{self.log_tail()}")
            status, body = http_json(f"{self.url}/healthz")
            return status == expect and body

        return wait_for(check, timeout=timeout, interval=0.2, message=f"/healthz to answer {expect}")

    def access_token(self) -> str:
        status, tokens = http_json(f"{self.url}/api/accounts/token/",
                                   {"username": self.admin[0], "password": self.admin[1]})
        assert status == 200, tokens
        return tokens["access"]

    def stop(self) -> int:
        """SIGTERM, as Ctrl-C or `docker stop` would; waits until every process it started is gone."""
        if self.proc.poll() is not None:
            return self.proc.returncode
        tree = descendants(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            for pid in tree | {self.proc.pid}:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            raise AssertionError(f"serve did not stop within 60 s:\n{self.log_tail()}")
        wait_for(lambda: not any(alive(p) for p in tree), timeout=30, message="every child process to exit")
        return code


class WebServer:
    """The web server alone (``manage.py serve --no-worker --no-beat``: the uvicorn command line `make run` uses)
    on this test run's settings, database and Redis. Tests that use it need committed data (``transactional_db``)."""

    def __init__(self, base: Path, env: dict | None = None):
        from tests.conftest import _test_database_url

        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if k not in ("PORT", "HOST", "DATABASE_URL")}
        self.env.update(DJANGO_SETTINGS_MODULE="tests.settings", DATABASE_URL=_test_database_url(), **(env or {}))
        self.log = base / f"web-{self.port}.log"
        self.proc = subprocess.Popen([sys.executable, "manage.py", "serve", "--no-worker", "--no-beat",
                                      "--port", str(self.port)], cwd=ROOT, env=self.env,
                                     stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        wait_for(self._answers, timeout=60, interval=0.1, message="the web server to answer")

    def _answers(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"serve exited with {self.proc.returncode}:\n{self.log_tail()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
