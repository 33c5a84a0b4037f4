import pytest

from .fake_dispatcharr import FakeClock, make_fake


@pytest.fixture
def dispatcharr(fake_server):
    """A fake Dispatcharr over real HTTP with sources 21 (url, .../epg.xml), 7 (url) and 10 (dummy)."""
    return make_fake(fake_server())


@pytest.fixture
def clock():
    return FakeClock()
