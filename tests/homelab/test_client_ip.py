"""The client's address (homelab.net): X-Forwarded-For is believed only from TRUSTED_PROXIES, and then only its
right-most untrusted hop. Over a live web server (the uvicorn command line `make run` uses) with real headers."""
import http.client
import json

import pytest
from django.test import RequestFactory, override_settings

from homelab.management.commands.serve import Command as ServeCommand
from homelab.net import client_ip, scope_client_ip
from tests.live import WebServer

PROXY = "127.0.0.2"  # a second loopback address plays the proxy in front (Traefik)


@pytest.fixture(scope="module")
def web(tmp_path_factory, django_db_setup, django_db_blocker):
    server = WebServer(tmp_path_factory.mktemp("web"), env={"TRUSTED_PROXIES": f"{PROXY},10.0.0.0/8"})
    yield server
    server.stop()


def login(web, password="wrong", *, source="127.0.0.1", forwarded_for=None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=10, source_address=(source, 0))
    headers = {"Content-Type": "application/json"}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    conn.request("POST", "/api/accounts/token/", json.dumps({"username": "admin", "password": password}), headers)
    status = conn.getresponse().status
    conn.close()
    return status


@pytest.mark.django_db(transaction=True)
def test_a_client_cannot_dodge_the_login_throttle_by_rotating_x_forwarded_for(web, admin_user):
    statuses = [login(web, forwarded_for=f"198.51.100.{n}") for n in range(25)]
    assert statuses[:20] == [401] * 20
    assert statuses[20:] == [429] * 5
    # the right password from the same socket address is refused too; another address is not throttled
    assert login(web, "s3cret-pass", forwarded_for="203.0.113.99") == 429


@pytest.mark.django_db(transaction=True)
def test_behind_a_trusted_proxy_each_client_has_its_own_limit(web, admin_user):
    # the client made up the left part; the proxy appended the address it saw (203.0.113.7)
    statuses = [login(web, source=PROXY, forwarded_for=f"192.0.2.{n}, 203.0.113.7") for n in range(21)]
    assert statuses == [401] * 20 + [429]
    assert login(web, source=PROXY, forwarded_for="203.0.113.8") == 401
    assert login(web, "s3cret-pass", source=PROXY, forwarded_for="203.0.113.8") == 200
    # a chain of two trusted proxies (10.1.2.3 inside): the client is still 203.0.113.7
    assert login(web, "s3cret-pass", source=PROXY, forwarded_for="203.0.113.7, 10.1.2.3") == 429
    # the proxy's own socket is not throttled by its clients' attempts
    assert login(web, "s3cret-pass", source=PROXY) == 200


@override_settings(TRUSTED_PROXIES=["10.0.0.1", "172.16.0.0/12", "fd00::/8"])
@pytest.mark.parametrize("peer, forwarded, expected", [
    ("192.0.2.5", "1.2.3.4", "192.0.2.5"),  # not from a proxy: the header is ignored
    ("10.0.0.1", "1.2.3.4", "1.2.3.4"),
    ("10.0.0.1", "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # right-most untrusted hop
    ("10.0.0.1", "1.2.3.4, 172.20.0.9", "1.2.3.4"),  # past a trusted inner proxy
    ("10.0.0.1", "172.20.0.9", "172.20.0.9"),  # only proxies: the farthest one
    ("10.0.0.1", "1.2.3.4, not-an-ip", "10.0.0.1"),  # garbage where a proxy writes: the peer
    ("10.0.0.1", "", "10.0.0.1"),
    ("10.0.0.1", "1.2.3.4:5678", "1.2.3.4"),
    ("fd00::1", "[2001:db8::7]:443", "2001:db8::7"),
])
def test_client_ip_believes_only_trusted_proxies(peer, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
    scope = {"client": (peer, 1234), "headers": [(b"x-forwarded-for", forwarded.encode())]}
    assert scope_client_ip(scope) == expected


def test_with_no_trusted_proxies_the_socket_address_is_the_client():
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(request) == "127.0.0.1"
    assert ServeCommand.proxy_header_args() == ["--no-proxy-headers"]
    with override_settings(TRUSTED_PROXIES=["10.0.0.1", "10.1.0.0/16"]):
        assert ServeCommand.proxy_header_args() == ["--proxy-headers", "--forwarded-allow-ips", "10.0.0.1,10.1.0.0/16"]


def test_web_workers_become_uvicorn_processes():
    assert ServeCommand.workers_args() == []  # one process by default
    with override_settings(WEB_WORKERS=2):
        assert ServeCommand.workers_args() == ["--workers", "2"]
