"""The cookie mode: qBittorrent's form login and its session cookie."""
import pytest

from integrations.client import AuthError, GenericAPIClient
from tests.integrations import upstreams
from tests.integrations.upstreams import PASSWORD, USER


def test_cookie_login_is_a_form_and_survives_expiry(fake_server):
    srv = fake_server()
    qbt = upstreams.QBittorrent(srv)
    client = GenericAPIClient(srv.url, username=USER, password=PASSWORD, auth_type="cookie")
    assert client.get("/api/v2/torrents/info", params={"filter": "downloading"})[0]["state"] == "downloading"
    assert client.post("/api/v2/torrents/add", data={"urls": "magnet:?xt=1"}) == "added magnet:?xt=1"
    assert qbt.logins == 1
    qbt.expire_sessions()
    assert client.get("/api/v2/torrents/info")[0]["name"] == "ubuntu.iso"
    assert qbt.logins == 2

def test_the_guides_qbittorrent_example_works_as_written(fake_server):
    # API Integration Guide, "qBittorrent": no auth_endpoint, no auth_type
    srv = fake_server()
    qbt = upstreams.QBittorrent(srv)
    client = GenericAPIClient(
        base_url=srv.url,
        username=USER,
        password=PASSWORD
    )
    torrents = client.get('/api/v2/torrents/info')
    assert torrents[0]["name"] == "ubuntu.iso"
    assert client.post('/api/v2/torrents/add', data={
        'urls': 'magnet:?xt=urn:btih:abc'
    }) == "added magnet:?xt=urn:btih:abc"  # a form, as qBittorrent reads it
    qbt.expire_sessions()  # qBittorrent answers an expired session with 403
    assert client.get('/api/v2/torrents/info')[0]["name"] == "ubuntu.iso"
    assert qbt.logins == 2
    # the login form went first: no failed attempt counts toward qBittorrent's IP ban
    assert all(c.form().get("username") == USER for c in srv.calls_to("/api/v2/auth/login"))

def test_a_refused_qbittorrent_login_is_one_attempt(fake_server):
    srv = fake_server()
    upstreams.QBittorrent(srv)
    for auth_type in ("cookie", None):
        srv.calls.clear()
        with pytest.raises(AuthError, match="Invalid username or password"):
            GenericAPIClient(srv.url, username=USER, password="wrong-pass-123", auth_type=auth_type).get(
                "/api/v2/torrents/info")
        assert len(srv.calls_to("/api/v2/auth/login")) == 1, auth_type
