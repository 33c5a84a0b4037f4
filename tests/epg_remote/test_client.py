"""The Dispatcharr client (integrations GenericAPIClient, JWT mode) and the manager against a fake Dispatcharr
over real HTTP: login, token cache, 401 then re-login, expiring tokens, 403, 404, refused connections, dummy 400."""
import pytest

from epg.remote.clients import manager_for
from epg.remote.manager import DispatcharrError

from .fake_dispatcharr import closed_port_url, make_fake


def mgr(fake, password=None, **kwargs):
    return manager_for(fake.url, fake.username, password or fake.password, **kwargs)


def test_it_logs_in_once_and_shares_the_token_across_clients(dispatcharr):
    assert [s["id"] for s in mgr(dispatcharr).list_sources()] == [7, 21, 10]
    assert mgr(dispatcharr).get_source(21)["name"] == "_Teamarr - Detroit Sports"
    assert dispatcharr.logins == 1
    login = dispatcharr.server.calls_to("/api/accounts/token/")[0]
    assert login.json() == {"username": "admin", "password": "dispatch-pass"}
    assert dispatcharr.server.calls_to("/api/epg/sources/")[0].headers["authorization"].startswith("Bearer ")


def test_a_401_makes_it_log_in_again_and_retry_once(dispatcharr):
    m = mgr(dispatcharr)
    assert m.list_sources()
    dispatcharr.revoke_tokens()
    assert len(m.list_sources()) == 3
    assert dispatcharr.logins == 2
    statuses = [c.path for c in dispatcharr.server.calls]
    assert statuses == ["/api/accounts/token/", "/api/epg/sources/", "/api/epg/sources/",
                        "/api/accounts/token/", "/api/epg/sources/"]


def test_an_access_token_the_server_expired_early_is_replaced(fake_server, clock):
    """Opaque tokens: the client trusts Dispatcharr's 5 minutes, the server says 401 after 1 s: re-login."""
    fake = make_fake(fake_server(), access_lifetime=1.0)
    m = mgr(fake)
    assert m.list_sources()
    token = next(iter(fake.access))
    clock.travel(2)
    assert fake.expired(token)
    assert m.get_source(21)["id"] == 21
    assert fake.logins == 2


def test_a_jwt_that_expires_after_a_second_is_refreshed_before_use(fake_server, poll):
    """JWT-shaped tokens with exp: the client refreshes ahead of expiry with the refresh token, no new login."""
    fake = make_fake(fake_server(), access_lifetime=1.0, jwt_tokens=True)
    m = mgr(fake)
    assert m.list_sources()
    token = next(iter(fake.access))
    poll(lambda: fake.expired(token), timeout=5, message="the access token to expire")
    assert m.get_source(21)["id"] == 21
    assert fake.logins == 1
    assert fake.refreshes == 1
    refresh_call = fake.server.calls_to("/api/accounts/token/refresh/")[0]
    assert set(refresh_call.json()) == {"refresh"}
    assert not fake.server.calls_to("/api/epg/sources/21/")[0].headers["authorization"].endswith(token)


def test_wrong_credentials_are_an_auth_error_without_the_password(dispatcharr):
    m = mgr(dispatcharr, password="wrong-password-123")
    with pytest.raises(DispatcharrError) as exc:
        m.fetch_sources()
    assert exc.value.kind == DispatcharrError.AUTH
    assert "authentication failed" in exc.value.message
    assert "wrong-password-123" not in exc.value.message
    assert m.list_sources() == [] and m.last_error.is_auth
    assert m.refresh(21) == {"success": False, "message": "Request failed"}


def test_a_disabled_account_403_at_login_is_an_auth_error(dispatcharr):
    dispatcharr.login_status = 403
    with pytest.raises(DispatcharrError) as exc:
        mgr(dispatcharr).fetch_sources()
    assert exc.value.is_auth


def test_a_403_on_the_api_is_forbidden(dispatcharr):
    dispatcharr.api_status = 403
    with pytest.raises(DispatcharrError) as exc:
        mgr(dispatcharr).fetch_sources()
    assert exc.value.kind == DispatcharrError.FORBIDDEN
    assert "HTTP 403" in exc.value.message and "lacks permission" in exc.value.message


def test_a_5xx_is_temporary(dispatcharr):
    dispatcharr.api_status = 503
    with pytest.raises(DispatcharrError) as exc:
        mgr(dispatcharr).fetch_sources()
    assert exc.value.temporary and exc.value.status == 503


def test_404_for_an_unknown_source(dispatcharr):
    m = mgr(dispatcharr)
    assert m.get_source(99) is None
    assert m.refresh(99) == {"success": False, "message": "EPG source not found."}
    with pytest.raises(DispatcharrError) as exc:
        m.trigger_import(99)
    assert exc.value.kind == DispatcharrError.NOT_FOUND


def test_a_dummy_source_answers_400(dispatcharr):
    m = mgr(dispatcharr)
    assert m.refresh(10) == {"success": False, "message": "Cannot refresh dummy EPG source"}
    with pytest.raises(DispatcharrError) as exc:
        m.trigger_import(10)
    assert exc.value.kind == DispatcharrError.BAD_REQUEST
    assert exc.value.message.endswith("Dummy EPG sources do not require refreshing.")
    assert dispatcharr.imports == []


def test_a_refused_connection_is_temporary():
    m = manager_for(closed_port_url(), "admin", "secret-pass")
    with pytest.raises(DispatcharrError) as exc:
        m.fetch_sources()
    assert exc.value.temporary
    assert "connection refused" in exc.value.message
    assert m.refresh(21) == {"success": False, "message": "Request failed"}


def test_wait_for_refresh_over_http(dispatcharr, clock):
    m = mgr(dispatcharr)
    result = m.wait_for_refresh(21, timeout=60, poll_interval=2)
    assert result == {"success": True, "duration": 6.0, "final_status": "success",
                      "message": "EPG refresh success in 6.0s"}
    assert dispatcharr.imports == [21]
    assert dispatcharr.server.calls_to("/api/epg/import/")[0].json() == {"id": 21}


def test_wait_for_refresh_reports_a_remote_error(dispatcharr, clock):
    dispatcharr.import_plan = ["fetching", "error"]
    result = mgr(dispatcharr).wait_for_refresh(21, timeout=60, poll_interval=2)
    assert result == {"success": False, "duration": 4.0, "final_status": "error",
                      "message": "EPG refresh error in 4.0s"}


def test_wait_for_refresh_times_out(dispatcharr, clock):
    dispatcharr.import_plan = ["fetching"] * 100
    result = mgr(dispatcharr).wait_for_refresh(21, timeout=10, poll_interval=3)
    assert result == {"success": False, "duration": 10, "final_status": "timeout",
                      "message": "EPG refresh timed out after 10s"}
    assert clock.sleeps == [3, 3, 3, 1]
