"""The EPG manager's operations, with the guide's return values and messages (unit tests, stub client)."""
import pytest

from epg.remote.manager import DispatcharrError, EPGManager
from homelab.http import HTTPError

from .stubs import StubClient

SOURCES = [
    {"id": 21, "name": "_Teamarr - Detroit Sports", "source_type": "url", "url": "http://t:9195/epg.xml"},
    {"id": 10, "name": "_Dummy - All Sports", "source_type": "dummy"},
    {"id": 7, "name": "@Provider EPG - MSX", "source_type": "url", "url": "http://p/x.xml"},
]


def manager(client):
    """Waits read homelab.clock: tests that wait take the ``clock`` fixture, which moves it instead."""
    return EPGManager(client)


def test_list_sources_with_and_without_dummies():
    client = StubClient().on("GET", "/api/epg/sources/", (200, SOURCES))
    assert [s["id"] for s in manager(client).list_sources()] == [21, 10, 7]
    assert [s["id"] for s in manager(client).list_sources(include_dummy=False)] == [21, 7]


def test_list_sources_accepts_a_paginated_answer():
    client = StubClient().on("GET", "/api/epg/sources/", (200, {"count": 3, "results": SOURCES}))
    assert len(manager(client).list_sources()) == 3


def test_list_sources_is_empty_on_failure_and_keeps_the_reason():
    client = StubClient().on("GET", "/api/epg/sources/", (500, {"detail": "boom"}))
    m = manager(client)
    assert m.list_sources() == []
    assert m.last_error.kind == DispatcharrError.TEMPORARY
    assert "HTTP 500" in m.last_error.message


def test_fetch_sources_refuses_an_answer_that_is_not_a_list():
    client = StubClient().on("GET", "/api/epg/sources/", (200, {"hello": "world"}))
    with pytest.raises(DispatcharrError) as exc:
        manager(client).fetch_sources()
    assert exc.value.kind == DispatcharrError.PERMANENT
    assert "is this a Dispatcharr URL?" in exc.value.message


def test_transport_failures_are_temporary_and_refused_logins_are_auth():
    client = StubClient().on("GET", "/api/epg/sources/", HTTPError("GET http://x/: connection refused"))
    with pytest.raises(DispatcharrError) as exc:
        manager(client).fetch_sources()
    assert exc.value.temporary
    client = StubClient().on("GET", "/api/epg/sources/",
                             HTTPError("Invalid username or password", status=401, permanent=True))
    with pytest.raises(DispatcharrError) as exc:
        manager(client).fetch_sources()
    assert exc.value.kind == DispatcharrError.AUTH and exc.value.is_auth


def test_get_source_and_not_found():
    client = StubClient().on("GET", "/api/epg/sources/21/", (200, SOURCES[0]))
    assert manager(client).get_source(21)["name"] == "_Teamarr - Detroit Sports"
    assert manager(client).get_source(99) is None


def test_find_by_name_partial_and_exact():
    client = StubClient().on("GET", "/api/epg/sources/", (200, SOURCES))
    m = manager(client)
    assert m.find_by_name("teamarr")["id"] == 21
    assert m.find_by_name("teamarr", exact=True) is None
    assert m.find_by_name("_Teamarr - Detroit Sports", exact=True)["id"] == 21
    assert m.find_by_name("nothing") is None


def test_refresh_messages():
    client = StubClient().on("POST", "/api/epg/import/", lambda body: {
        21: (202, {"success": True, "message": "EPG data import initiated."}),
        10: (400, {"success": False, "message": "Dummy EPG sources do not require refreshing."}),
        99: (404, {"success": False, "message": "EPG source not found."}),
        5: (500, "<html>oops</html>"),
    }[body["id"]])
    m = manager(client)
    assert m.refresh(21) == {"success": True, "message": "EPG refresh initiated"}
    assert m.refresh(10) == {"success": False, "message": "Cannot refresh dummy EPG source"}
    assert m.refresh(99) == {"success": False, "message": "EPG source not found."}
    assert m.refresh(5) == {"success": False, "message": "HTTP 500"}
    assert client.calls[0] == ("POST", "/api/epg/import/", {"id": 21})


def test_refresh_when_the_request_fails():
    client = StubClient().on("POST", "/api/epg/import/", HTTPError("POST http://x/: connection refused"))
    m = manager(client)
    assert m.refresh(21) == {"success": False, "message": "Request failed"}
    assert m.last_error.temporary


def test_refresh_multiple_all_and_by_name():
    client = StubClient().on("GET", "/api/epg/sources/", (200, SOURCES)).on(
        "POST", "/api/epg/import/", lambda body: (400, {}) if body["id"] == 10 else (202, {}))
    m = manager(client)
    assert m.refresh_multiple([21, 10]) == {
        21: {"success": True, "message": "EPG refresh initiated"},
        10: {"success": False, "message": "Cannot refresh dummy EPG source"},
    }
    assert list(m.refresh_all()) == [21, 7]
    assert list(m.refresh_all(skip_dummy=False)) == [21, 10, 7]
    assert m.refresh_by_name("MSX") == {"success": True, "message": "EPG refresh initiated"}
    assert m.refresh_by_name("Nope") == {"success": False, "message": "No EPG source found matching 'Nope'"}


def _source(status, updated_at="2025-11-24T19:02:30Z", last_message=""):
    return (200, {**SOURCES[0], "status": status, "updated_at": updated_at, "last_message": last_message})


def test_wait_for_refresh_succeeds_when_updated_at_changes(clock):
    client = StubClient().on("GET", "/api/epg/sources/21/", _source("success"), _source("idle"),
                             _source("success"), _source("success", "2026-01-01T00:00:00Z"))
    client.on("POST", "/api/epg/import/", (202, {"success": True}))
    result = manager(client).wait_for_refresh(21, timeout=60, poll_interval=2)
    assert result == {"success": True, "duration": 6.0, "final_status": "success",
                      "message": "EPG refresh success in 6.0s"}
    assert clock.sleeps == [2, 2, 2]


def test_wait_for_refresh_sees_an_error_that_leaves_updated_at_alone(clock):
    client = StubClient().on("GET", "/api/epg/sources/21/", _source("success"), _source("parsing"),
                             _source("error", last_message="bad XML"))
    client.on("POST", "/api/epg/import/", (202, {}))
    result = manager(client).wait_for_refresh(21, timeout=60, poll_interval=2)
    assert result == {"success": False, "duration": 4.0, "final_status": "error",
                      "message": "EPG refresh error in 4.0s"}


def test_wait_for_refresh_ignores_the_previous_outcome_and_times_out_on_the_deadline(clock):
    client = StubClient().on("GET", "/api/epg/sources/21/", _source("success"))
    client.on("POST", "/api/epg/import/", (202, {}))
    result = manager(client).wait_for_refresh(21, timeout=5, poll_interval=2)
    assert result == {"success": False, "duration": 5, "final_status": "timeout",
                      "message": "EPG refresh timed out after 5s"}
    assert clock.sleeps == [2, 2, 1]  # the last sleep stops at the deadline


def test_wait_for_refresh_skips_failed_polls(clock):
    client = StubClient().on("GET", "/api/epg/sources/21/", _source("idle"), (502, "bad gateway"),
                             HTTPError("GET: timed out", timeout=True), _source("success", "2026-01-02T00:00:00Z"))
    client.on("POST", "/api/epg/import/", (202, {}))
    result = manager(client).wait_for_refresh(21, timeout=60, poll_interval=1)
    assert result["final_status"] == "success" and result["duration"] == 3.0


def test_wait_for_refresh_when_the_trigger_fails(clock):
    client = StubClient().on("GET", "/api/epg/sources/10/", (200, SOURCES[1]))
    client.on("POST", "/api/epg/import/", (400, {"success": False}))
    result = manager(client).wait_for_refresh(10)
    assert result == {"success": False, "duration": 0.0, "final_status": "error",
                      "message": "Cannot refresh dummy EPG source"}
    assert clock.sleeps == []
