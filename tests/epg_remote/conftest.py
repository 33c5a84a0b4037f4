import pytest

from homelab import clock as project_clock

from .fake_dispatcharr import MovableClock, make_fake


@pytest.fixture
def dispatcharr(fake_server):
    """A fake Dispatcharr over real HTTP with sources 21 (url, .../epg.xml), 7 (url) and 10 (dummy)."""
    return make_fake(fake_server())


@pytest.fixture
def clock(monkeypatch):
    """homelab.clock moved by the code's own waits (see MovableClock): pushes and polls take no real time."""
    moving = MovableClock()
    monkeypatch.setattr(project_clock, "monotonic", lambda: moving.monotonic())
    monkeypatch.setattr(project_clock, "sleep", lambda seconds: moving.sleep(seconds))  # a test may wrap sleep
    yield moving
    project_clock.reset()
