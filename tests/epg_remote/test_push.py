"""The push-refresh service and task against a fake Dispatcharr over real HTTP."""
import logging
from datetime import timedelta

import pytest

from epg.remote import pushes
from homelab import jobs
from epg.remote.models import DispatcharrLink
from epg.remote.tasks import push_refresh

from .fake_dispatcharr import closed_port_url
from .links import create_link

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast(settings):
    settings.DISPATCHARR_WAIT_TIMEOUT = 60.0
    settings.DISPATCHARR_POLL_INTERVAL = 2.0
    settings.JOB_RETRY_BACKOFF = 0.0
    settings.DISPATCHARR_AUTH_FAILURE_LIMIT = 3


def link_to(fake, **kwargs):
    values = dict(enabled=True, url=fake.url, username=fake.username, password=fake.password, epg_id=21)
    values.update(kwargs)
    return create_link(**values)


def push(link, clock, **kwargs):
    """A push in this process; ``clock`` (the fixture) makes its waits move the clock instead of taking time."""
    return pushes.push_link(link.pk, **kwargs).outcome


def test_a_push_refreshes_the_remote_source_and_records_last_sync(dispatcharr, clock):
    link = link_to(dispatcharr)
    assert push(link, clock) == "success"
    link.refresh_from_db()
    assert dispatcharr.imports == [21]
    assert link.last_result == "success"
    assert link.last_message == "EPG refresh success in 6.0s"
    assert link.last_sync is not None and link.last_duration == 6.0
    assert link.epg_name == "_Teamarr - Detroit Sports"
    assert link.pushing_since is None and link.auth_failures == 0


def test_a_link_without_an_epg_id_discovers_it_by_the_output_file_name(dispatcharr, clock):
    link = link_to(dispatcharr, epg_id=None)
    assert push(link, clock) == "success"
    link.refresh_from_db()
    assert (link.epg_id, link.epg_name) == (21, "_Teamarr - Detroit Sports")


def test_discovery_that_finds_nothing_says_so(dispatcharr, clock):
    link = link_to(dispatcharr, epg_id=None, output_filename="teamarr.xml")
    assert push(link, clock) == "error"
    link.refresh_from_db()
    assert link.last_message.startswith("No EPG source id is set, and discovery failed: No URL EPG source on "
                                        "Dispatcharr has a URL ending in 'teamarr.xml'.")
    assert dispatcharr.imports == []


def test_a_deleted_remote_source_is_rediscovered(dispatcharr, clock):
    link = link_to(dispatcharr, epg_id=55)
    assert push(link, clock) == "success"
    link.refresh_from_db()
    assert link.epg_id == 21 and dispatcharr.imports == [21]


def test_a_remote_error_is_recorded_with_the_remote_message(dispatcharr, clock):
    dispatcharr.import_plan = ["fetching", "error"]
    link = link_to(dispatcharr)
    assert push(link, clock) == "error"
    link.refresh_from_db()
    assert link.last_result == "error" and link.last_sync is None
    assert link.last_message == f"EPG refresh error in 4.0s: {dispatcharr.error_message}"


def test_a_remote_refresh_that_never_ends_times_out(dispatcharr, clock, settings):
    settings.DISPATCHARR_WAIT_TIMEOUT = 7.0
    dispatcharr.import_plan = ["fetching"] * 100
    link = link_to(dispatcharr)
    assert push(link, clock) == "timeout"
    link.refresh_from_db()
    assert link.last_message == "EPG refresh timed out after 7.0s (last status: fetching)"
    assert link.last_sync is None


def test_a_dummy_source_400_is_an_error_on_the_row(dispatcharr, clock):
    link = link_to(dispatcharr, epg_id=10)
    assert push(link, clock) == "error"
    link.refresh_from_db()
    assert link.last_message.endswith("refused (HTTP 400): Dummy EPG sources do not require refreshing.")


def test_repeated_authentication_failures_disable_the_link(dispatcharr, clock, caplog):
    caplog.set_level(logging.INFO)
    link = link_to(dispatcharr, password="wrong-password-xyz")
    assert push(link, clock) == "error"
    link.refresh_from_db()
    assert link.enabled and link.auth_failures == 1
    assert "(authentication failure 1 of 3 before the link disables itself)" in link.last_message
    assert push(link, clock) == "error"
    assert push(link, clock) == "disabled"
    link.refresh_from_db()
    assert not link.enabled and link.last_result == "disabled" and link.auth_failures == 3
    assert link.last_message.startswith("Disabled after 3 consecutive authentication failures: ")
    assert "enable the link again" in link.last_message
    assert push(link, clock) == "disabled"  # nothing more is sent
    assert len(dispatcharr.server.calls_to("/api/accounts/token/")) == 3  # one refused login a push, no form retry
    assert "wrong-password-xyz" not in caplog.text and "wrong-password-xyz" not in link.last_message
    assert "Dispatcharr link %d disabled" % link.pk in caplog.text


def test_a_403_counts_as_an_authentication_failure_and_a_success_resets_the_count(dispatcharr, clock):
    link = link_to(dispatcharr)
    dispatcharr.api_status = 403
    assert push(link, clock) == "error"
    link.refresh_from_db()
    assert link.auth_failures == 1 and "HTTP 403" in link.last_message
    dispatcharr.api_status = None
    assert push(link, clock) == "success"
    link.refresh_from_db()
    assert link.auth_failures == 0


def test_a_refused_connection_asks_for_a_retry_then_gives_up(clock):
    link = create_link(enabled=True, url=closed_port_url(), username="admin",
                                          password="secret-pass", epg_id=21)
    with pytest.raises(jobs.RetryLater):
        push(link, clock, final_attempt=False)
    link.refresh_from_db()
    assert link.last_result == "retrying" and "connection refused" in link.last_message
    assert link.pushing_since is None
    assert push(link, clock, final_attempt=True, attempt=6) == "error"
    link.refresh_from_db()
    assert link.last_message.endswith("(gave up after 6 attempts)")
    assert link.auth_failures == 0


def test_the_task_retries_temporary_errors_five_times(dispatcharr):
    dispatcharr.login_status = 500
    link = link_to(dispatcharr)
    assert push_refresh.apply(args=[link.pk]).get() == "error"
    assert len(dispatcharr.server.calls_to("/api/accounts/token/")) == 6
    link.refresh_from_db()
    assert link.last_result == "error" and "(gave up after 6 attempts)" in link.last_message


def test_the_task_does_not_retry_permanent_errors(dispatcharr):
    link = link_to(dispatcharr, epg_id=10)
    assert push_refresh.apply(args=[link.pk]).get() == "error"
    assert len(dispatcharr.server.calls_to("/api/epg/import/")) == 1


def test_a_disabled_or_deleted_link_is_not_pushed(dispatcharr, clock):
    link = link_to(dispatcharr, enabled=False)
    assert push(link, clock) == "disabled"
    assert pushes.push_link(987654).outcome == "gone"
    assert dispatcharr.server.calls == []


def test_a_push_asked_for_while_one_runs_follows_it(dispatcharr, clock):
    link = link_to(dispatcharr)
    token = pushes.claim_push(link.pk)
    assert token is not None
    assert push(link, clock) == "pending"
    link.refresh_from_db()
    assert link.push_pending and dispatcharr.server.calls == []
    assert pushes.release_push(link.pk, token) is True
    link.refresh_from_db()
    assert not link.push_pending and link.pushing_since is None and link.heartbeat_at is None


def test_the_task_queues_the_pending_push_when_the_running_one_ends(dispatcharr, clock, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    link = link_to(dispatcharr)
    queued = []
    monkeypatch.setattr(push_refresh, "delay", lambda link_id: queued.append(link_id))

    original = pushes._default_manager_factory

    def factory(link, **kwargs):
        # the guide changes again while this push talks to Dispatcharr
        DispatcharrLink.objects.filter(pk=link.pk).update(push_pending=True)
        return original(link, **kwargs)

    monkeypatch.setattr(pushes, "_default_manager_factory", factory)
    with django_capture_on_commit_callbacks(execute=True):
        assert push_refresh.apply(args=[link.pk]).get() == "success"
    assert queued == [link.pk]


def test_a_claim_whose_heartbeat_went_stale_is_taken_over(dispatcharr, clock, settings):
    from homelab import clock as project_clock

    link = link_to(dispatcharr)
    claimed = project_clock.now() - timedelta(seconds=settings.JOB_HEARTBEAT_STALE + 1)
    DispatcharrLink.objects.filter(pk=link.pk).update(pushing_since=claimed, heartbeat_at=claimed)
    assert push(link, clock) == "success"


def test_a_claim_with_a_fresh_heartbeat_is_not_taken_over(dispatcharr, clock):
    from homelab import clock as project_clock

    link = link_to(dispatcharr)
    claimed = project_clock.now() - timedelta(hours=3)  # an old claim, but its push is alive
    DispatcharrLink.objects.filter(pk=link.pk).update(pushing_since=claimed, heartbeat_at=project_clock.now())
    assert push(link, clock) == "pending"
    assert dispatcharr.server.calls == []


def test_logs_say_what_happened_and_never_show_the_password(dispatcharr, clock, caplog):
    caplog.set_level(logging.DEBUG)
    link = link_to(dispatcharr)
    push(link, clock)
    assert f"Dispatcharr link {link.pk}: pushing a refresh to {dispatcharr.url}" in caplog.text
    assert f"Dispatcharr link {link.pk}: EPG refresh success in 6.0s (source 21)" in caplog.text
    assert dispatcharr.password not in caplog.text


def test_each_outcome_is_published_as_an_event(dispatcharr, clock, poll):
    import json

    from homelab import events

    pubsub = events.redis_client().pubsub()
    pubsub.subscribe(events.CHANNEL_PREFIX + "epg")
    try:
        poll(lambda: pubsub.get_message(timeout=0.1), timeout=5, message="the subscription")
        link = link_to(dispatcharr)
        push(link, clock)
        received = []

        def got_success():
            message = pubsub.get_message(timeout=0.1)
            if message and message["type"] == "message":
                received.append(json.loads(message["data"]))
            return any(e["data"]["result"] == "success" for e in received)

        poll(got_success, timeout=5, message="the success event")
    finally:
        pubsub.close()
    assert [e["event"] for e in received] == ["dispatcharr_push", "dispatcharr_push"]
    assert [e["data"]["result"] for e in received] == ["running", "success"]
    assert received[1]["data"]["link"] == link.pk and received[1]["data"]["last_sync"]
