"""Fake upstream services, one per auth mode, over real local HTTP (tests.fakes.FakeServer). Token expiry reads
``homelab.clock``, as the client does: a test moves the clock (the ``clock`` fixture) instead of sleeping."""
from __future__ import annotations

import base64
import json
import secrets
import threading
import time

from homelab import clock
from tests.fakes import FakeServer

ARR_KEY = "arr-key-0123456789"
USER, PASSWORD = "admin", "pa55-word-xyz"


def make_jwt(lifetime: float, kind: str = "access") -> str:
    def b64(obj) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    claims = {"exp": clock.time() + lifetime, "token_type": kind, "jti": secrets.token_hex(8)}
    return f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(claims)}.{secrets.token_hex(16)}"


def arr(srv: FakeServer) -> FakeServer:
    """Sonarr-like: X-Api-Key header or ?apikey=."""

    @srv.route("GET", "/api/v3/system/status")
    def status(call):
        if call.headers.get("x-api-key") == ARR_KEY or call.query.get("apikey") == ARR_KEY:
            return 200, {"appName": "Sonarr", "version": "4.0.0"}
        return 401, {"error": "Unauthorized"}

    @srv.route("GET", "/api")
    def api_root(call):
        return 401, {"error": "Unauthorized"}

    return srv


class QBittorrent:
    """Form login at /api/v2/auth/login sets SID; sessions can be expired by the test (answers 403)."""

    def __init__(self, srv: FakeServer):
        self.srv, self.sids, self.logins = srv, set(), 0
        srv.route("POST", "/api/v2/auth/login")(self.login)
        srv.route("GET", "/api/v2/torrents/info")(self.info)
        srv.route("POST", "/api/v2/torrents/add")(self.add)

    def login(self, call):
        form = call.form()
        if form.get("username") == USER and form.get("password") == PASSWORD:
            self.logins += 1
            sid = secrets.token_hex(16)
            self.sids.add(sid)
            return 200, "Ok.", {"Set-Cookie": f"SID={sid}; HttpOnly; path=/"}
        return 200, "Fails."

    def _ok(self, call):
        return call.cookies.get("SID") in self.sids

    def info(self, call):
        if not self._ok(call):
            return 403, "Forbidden"
        return 200, [{"name": "ubuntu.iso", "state": call.query.get("filter", "all")}]

    def add(self, call):
        if not self._ok(call):
            return 403, "Forbidden"
        return 200, f"added {call.form().get('urls')}"

    def expire_sessions(self):
        self.sids.clear()


class Portainer:
    """JSON login at /api/auth answering {"jwt": ...}; tokens can be revoked by the test (answers 401)."""

    def __init__(self, srv: FakeServer):
        self.srv, self.tokens, self.logins = srv, set(), 0
        self.lock = threading.Lock()
        srv.route("POST", "/api/auth")(self.login)
        srv.route("GET", "/api/endpoints")(self.endpoints)
        srv.route("POST", "/api/stacks")(self.stacks)

    def login(self, call):
        try:
            body = call.json()
        except ValueError:
            return 400, {"message": "Invalid request payload"}
        if body.get("username") == USER and body.get("password") == PASSWORD:
            with self.lock:
                self.logins += 1
                token = make_jwt(3600)
                self.tokens.add(token)
            time.sleep(0.05)  # a login takes a moment: concurrent callers overlap
            return 200, {"jwt": token}
        return 422, {"message": "Invalid credentials"}

    def _auth(self, call):
        return call.headers.get("authorization", "").removeprefix("Bearer ") in self.tokens

    def endpoints(self, call):
        if not self._auth(call):
            return 401, {"message": "Unauthorized"}
        return 200, [{"Id": 1, "Name": "local"}]

    def stacks(self, call):
        if not self._auth(call):
            return 401, {"message": "Unauthorized"}
        return 200, {"Id": 7, **call.json()}

    def revoke(self):
        self.tokens.clear()


class Dispatcharr:
    """JWT pair: /api/accounts/token/ and /api/accounts/token/refresh/; the access token lives `lifetime` s."""

    def __init__(self, srv: FakeServer, lifetime: float = 1.0):
        self.srv, self.lifetime = srv, lifetime
        self.access, self.refresh = {}, set()
        self.logins = self.refreshes = 0
        self.refresh_works = True
        self.lock = threading.Lock()
        srv.route("POST", "/api/accounts/token/")(self.login)
        srv.route("POST", "/api/accounts/token/refresh/")(self.do_refresh)
        srv.route("GET", "/api/epg/sources/")(self.sources)

    def _issue_access(self):
        token = make_jwt(self.lifetime)
        self.access[token] = clock.time() + self.lifetime
        return token

    def login(self, call):
        try:  # DRF takes JSON and forms alike
            body = call.json()
        except ValueError:
            body = call.form()
        if body.get("username") != USER or body.get("password") != PASSWORD:
            return 401, {"detail": "No active account found with the given credentials"}
        with self.lock:
            self.logins += 1
            refresh = make_jwt(86400, "refresh")
            self.refresh.add(refresh)
            access = self._issue_access()
        time.sleep(0.05)
        return 200, {"access": access, "refresh": refresh}

    def do_refresh(self, call):
        token = call.json().get("refresh")
        if not self.refresh_works or token not in self.refresh:
            return 401, {"detail": "Token is invalid or expired", "code": "token_not_valid"}
        with self.lock:
            self.refreshes += 1
            return 200, {"access": self._issue_access()}

    def sources(self, call):
        token = call.headers.get("authorization", "").removeprefix("Bearer ")
        if self.access.get(token, 0) < clock.time():
            return 401, {"detail": "Given token not valid for any token type", "code": "token_not_valid"}
        return 200, [{"id": 1, "name": "XMLTV"}]

    def revoke_all(self):
        self.access.clear()
        self.refresh.clear()


def basic(srv: FakeServer) -> FakeServer:
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    @srv.route("GET", "/api/health")
    def health(call):
        if call.headers.get("authorization") != expected:
            return 401, {"detail": "auth required"}, {"WWW-Authenticate": 'Basic realm="x"'}
        return 200, {"status": "ok"}

    return srv
