"""The ffmpeg slots: a Redis semaphore per kind with expiring leases."""
import pytest

from previews import slots

pytestmark = pytest.mark.django_db


def test_at_most_limit_leases_are_held():
    a = slots.acquire("cpu", 2, "a")
    b = slots.acquire("cpu", 2, "b")
    assert (a.slot, b.slot) == (0, 1)
    assert slots.acquire("cpu", 2, "c") is None
    assert slots.acquire("gpu", 1, "c") is not None  # kinds count apart
    b.release()
    assert slots.acquire("cpu", 2, "c").slot == 1


def test_a_lower_limit_applies_to_the_next_acquire():
    slots.acquire("cpu", 3, "a")
    slots.acquire("cpu", 3, "b")
    assert slots.acquire("cpu", 2, "c") is None
    assert slots.acquire("cpu", 3, "c") is not None


def test_a_limit_of_zero_gives_nothing():
    assert slots.acquire("gpu", 0, "a") is None


def test_an_unrenewed_lease_expires(clock, settings):
    settings.PREVIEWS_LEASE_SECONDS = 30
    held = slots.acquire("cpu", 1, "dead-worker")
    clock.travel(20)
    assert slots.acquire("cpu", 1, "b") is None
    assert held.renew() is True
    clock.travel(25)
    assert slots.acquire("cpu", 1, "b") is None  # renewed 25 s ago
    clock.travel(10)
    assert slots.acquire("cpu", 1, "b") is not None
    assert held.renew() is False  # its slot went to another holder
    assert set(slots.held("cpu")) == {0}


def test_release_only_frees_the_holders_own_slot():
    a = slots.acquire("cpu", 1, "a")
    slots.Lease("cpu", a.slot, "someone-else").release()
    assert slots.acquire("cpu", 1, "b") is None
