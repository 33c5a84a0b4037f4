"""The jwt mode: an access/refresh pair (Dispatcharr), refreshed before expiry on homelab.clock."""
import logging
import threading
import time

import pytest

from integrations.client import AuthError, GenericAPIClient, jwt_claims
from tests.integrations import upstreams
from tests.integrations.upstreams import PASSWORD, USER


def test_wrong_password_is_an_auth_error_without_the_password(fake_server, caplog):
    srv = fake_server()
    upstreams.Dispatcharr(srv)
    client = GenericAPIClient(srv.url, username=USER, password="very-wrong-password", auth_type="jwt",
                              auth_endpoint="/api/accounts/token/", refresh_endpoint="/api/accounts/token/refresh/")
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(AuthError) as err:
            client.get("/api/epg/sources/")
    assert err.value.status == 401 and err.value.permanent
    assert "very-wrong-password" not in str(err.value) + err.value.body + caplog.text
    # the endpoint read the JSON credentials and refused them: no second try as a form
    assert len(srv.calls_to("/api/accounts/token/")) == 1

def test_a_login_forbidden_is_told_apart_from_a_wrong_password(fake_server):
    srv = fake_server()
    srv.route("POST", "/api/accounts/token/")(lambda call: (403, {"detail": "User account is disabled."}))
    client = GenericAPIClient(srv.url, username=USER, password=PASSWORD, auth_type="jwt",
                              auth_endpoint="/api/accounts/token/")
    with pytest.raises(AuthError) as err:
        client.get("/api/epg/sources/")
    assert err.value.status == 403 and err.value.permanent
    assert str(err.value) == "Login forbidden: the account is disabled or may not log in"

def dispatcharr_client(url, **kw):
    return GenericAPIClient(url, username=USER, password=PASSWORD, auth_type="jwt",
                            auth_endpoint="/api/accounts/token/", refresh_endpoint="/api/accounts/token/refresh/", **kw)

def test_jwt_refreshes_before_expiry(fake_server, clock):
    srv = fake_server()
    disp = upstreams.Dispatcharr(srv, lifetime=600)
    client = dispatcharr_client(srv.url)
    assert client.get("/api/epg/sources/")[0]["name"] == "XMLTV"
    clock.travel(570)  # past the refresh point (a minute before expiry), before the expiry
    assert client.get("/api/epg/sources/")[0]["name"] == "XMLTV"
    assert disp.logins == 1
    assert disp.refreshes == 1
    # no request was answered 401 and retried: the refresh happened before the token expired
    assert len(srv.calls_to("/api/epg/sources/")) == 2

def test_jwt_falls_back_to_login_when_refresh_fails(fake_server, clock):
    srv = fake_server()
    disp = upstreams.Dispatcharr(srv, lifetime=600)
    client = dispatcharr_client(srv.url)
    client.get("/api/epg/sources/")
    disp.refresh_works = False
    clock.travel(601)  # the access token has expired
    assert client.get("/api/epg/sources/")[0]["id"] == 1
    assert disp.logins == 2

def test_jwt_relogs_in_on_401(fake_server):
    srv = fake_server()
    disp = upstreams.Dispatcharr(srv, lifetime=600)
    client = dispatcharr_client(srv.url)
    client.get("/api/epg/sources/")
    disp.revoke_all()
    assert client.get("/api/epg/sources/")[0]["id"] == 1
    assert disp.logins == 2

def test_jwt_pair_is_shared_by_concurrent_clients(fake_server):
    srv = fake_server()
    disp = upstreams.Dispatcharr(srv, lifetime=600)
    barrier = threading.Barrier(6)
    errors = []

    def work():
        barrier.wait()
        try:
            dispatcharr_client(srv.url).get("/api/epg/sources/")
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors and disp.logins == 1

def test_expiry_comes_from_the_exp_claim_else_token_lifetime():
    token = upstreams.make_jwt(120)
    assert abs(jwt_claims(token)["exp"] - time.time() - 120) < 2
    client = GenericAPIClient("http://127.0.0.1:9", username="u", password="p", auth_type="jwt",
                              token_lifetime=30)
    entry, _ = client._token_entry("jwt", token, None)
    assert abs(entry["refresh_at"] - (time.time() + 60)) < 2
    entry, _ = client._token_entry("jwt", "opaque-token-value", None)
    assert abs(entry["refresh_at"] - (time.time() + 15)) < 2
    client = GenericAPIClient("http://127.0.0.1:9", username="u", password="p", auth_type="jwt")
    entry, _ = client._token_entry("jwt", "opaque-token-value", None)
    assert abs(entry["refresh_at"] - (time.time() + 240)) < 2

def test_an_exp_already_past_is_not_trusted():
    client = GenericAPIClient("http://127.0.0.1:9", username="u", password="p", auth_type="jwt")
    entry, _ = client._token_entry("jwt", upstreams.make_jwt(-3600), None)
    assert entry["refresh_at"] > time.time() + 200  # the 5-minute default, not a login per request
