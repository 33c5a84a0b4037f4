"""One clock for the whole project (issue "Platform", seam 6).

Token expiry, waits, due dates and heartbeats read ``now()`` / ``time()`` / ``monotonic()`` here, and waits call
``sleep()``, so a test moves time with ``travel(seconds)`` (or the ``clock`` fixture in tests/conftest.py)
instead of sleeping. The offset is process-wide; a worker process started by a test reads
``HOMELAB_CLOCK_OFFSET`` (seconds) from its environment at import.
"""
from __future__ import annotations

import os
import time as _time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

_start_offset = float(os.environ.get("HOMELAB_CLOCK_OFFSET", "0") or 0)  # a test's worker process: see above
_offset = _start_offset


def now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(timezone.utc) + timedelta(seconds=_offset)


def time() -> float:
    """Seconds since the epoch (as ``time.time()``)."""
    return _time.time() + _offset


def monotonic() -> float:
    """A monotonic reading for deadlines and durations (moves with ``travel`` too)."""
    return _time.monotonic() + _offset


def sleep(seconds: float) -> None:
    """Wait. Tests that would wait a long time move the clock instead; this only ever really sleeps."""
    if seconds > 0:
        _time.sleep(seconds)


def offset() -> float:
    return _offset


def travel(seconds: float) -> None:
    """Move the clock forward (or back, negative) by ``seconds``."""
    global _offset
    _offset += seconds


def reset() -> None:
    """Back to the offset the process started with (0, or its HOMELAB_CLOCK_OFFSET)."""
    global _offset
    _offset = _start_offset


@contextmanager
def travelled(seconds: float):
    """``with travelled(3600): ...`` runs the block an hour from now."""
    travel(seconds)
    try:
        yield
    finally:
        travel(-seconds)
