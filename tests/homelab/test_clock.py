"""homelab.clock: one clock that tests move instead of sleeping."""
import os
import subprocess
import sys
import time
from datetime import timezone

from homelab import clock as project_clock
from tests.conftest import ROOT


def test_now_is_aware_utc_and_real_time_when_not_moved(clock):
    now = clock.now()
    assert now.tzinfo is not None and now.utcoffset().total_seconds() == 0
    assert abs(now.timestamp() - time.time()) < 5
    assert abs(clock.time() - time.time()) < 5
    assert abs(clock.monotonic() - time.monotonic()) < 5


def test_travel_moves_now_time_and_monotonic_together(clock):
    before_now, before_time, before_mono = clock.now(), clock.time(), clock.monotonic()
    clock.travel(3600)
    assert 3600 <= (clock.now() - before_now).total_seconds() < 3605
    assert 3600 <= clock.time() - before_time < 3605
    assert 3600 <= clock.monotonic() - before_mono < 3605
    clock.travel(-3600)
    assert abs((clock.now() - before_now).total_seconds()) < 5


def test_travelled_runs_a_block_later_and_comes_back(clock):
    start = clock.time()
    with clock.travelled(86400):
        assert clock.time() - start >= 86400
    assert clock.time() - start < 5


def test_the_fixture_puts_the_clock_back(clock):
    clock.travel(10 ** 6)
    assert clock.offset() == 10 ** 6
    clock.reset()
    assert clock.offset() == 0
    assert project_clock.now().tzinfo == timezone.utc


def test_sleep_of_nothing_or_less_returns_at_once(clock):
    started = time.monotonic()
    clock.sleep(0)
    clock.sleep(-5)
    assert time.monotonic() - started < 0.5


def test_a_process_started_with_an_offset_runs_that_far_ahead_and_reset_keeps_it():
    """A worker started by a test reads HOMELAB_CLOCK_OFFSET; its reset() goes back to that offset, not to 0."""
    code = ("from homelab import clock; a = clock.offset(); clock.travel(5); clock.reset(); "
            "print(a, clock.offset(), round(clock.time() - __import__('time').time()))")
    env = {**os.environ, "HOMELAB_CLOCK_OFFSET": "3600"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["3600.0", "3600.0", "3600"]
