"""A fake Dispatcharr over real HTTP (on tests.fakes.FakeServer): JWT login and refresh, EPG sources, import.

Tokens are opaque strings by default (the client then assumes Dispatcharr's 5-minute life); with
``jwt_tokens=True`` they are JWT-shaped with an ``exp`` claim the client reads. ``access_lifetime`` is enforced
by the server either way, on ``homelab.clock`` (the server's threads share the test's clock: travel expires tokens). An import walks the source through ``import_plan`` (one status per GET of the
source), so tests drive the remote refresh with polls, not with time.
"""
from __future__ import annotations

import base64
import itertools
import json
import socket
import threading

from homelab import clock
from tests.fakes import FakeServer

INVALID_TOKEN = {"detail": "Given token not valid for any token type", "code": "token_not_valid"}
BAD_LOGIN = {"detail": "No active account found with the given credentials"}


def _body(call) -> dict:
    """A JSON body, or a form body (DRF accepts both)."""
    try:
        body = call.json()
    except ValueError:
        body = call.form()
    return body if isinstance(body, dict) else {}


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


class FakeDispatcharr:
    def __init__(self, server: FakeServer, *, username: str = "admin", password: str = "dispatch-pass",
                 access_lifetime: float = 300.0, jwt_tokens: bool = False):
        self.server = server
        self.url = server.url
        self.username, self.password = username, password
        self.access_lifetime = access_lifetime
        self.jwt_tokens = jwt_tokens
        self.access: dict[str, float] = {}     # token -> expiry (clock.time())
        self.refresh_tokens: set[str] = set()
        self.logins = 0
        self.refreshes = 0
        self.imports: list[int] = []
        self.login_status: int | None = None   # force the login answer (e.g. 403: account disabled)
        self.api_status: int | None = None     # force every API answer (e.g. 403, 500)
        self.import_plan = ["fetching", "parsing", "success"]
        self.error_message = "Error parsing EPG data: not well-formed (invalid token): line 1, column 0"
        self.sources: dict[int, dict] = {}
        self._plans: dict[int, list[str]] = {}
        self._counter = itertools.count(1)
        self._stamp = itertools.count(1)
        self.lock = threading.Lock()
        server.route("POST", "/api/accounts/token/")(self._login)
        server.route("POST", "/api/accounts/token/refresh/")(self._refresh)
        server.route("GET", "/api/epg/sources/")(self._list)
        server.route("POST", "/api/epg/import/")(self._import)

    # --- setup ---------------------------------------------------------------------------------
    def add_source(self, id: int, name: str, source_type: str = "url", url: str | None = None,
                   is_active: bool = True, status: str = "success") -> dict:
        source = {
            "id": id, "name": name, "source_type": source_type,
            "url": url if url is not None else (f"http://teamarr:9195/{name}.xml" if source_type == "url" else None),
            "is_active": is_active, "status": status, "last_message": "",
            "updated_at": "2025-11-24T19:02:30Z", "last_refresh": "2025-11-24T19:02:30Z", "refresh_interval": 0,
        }
        self.sources[id] = source
        self.server.route("GET", f"/api/epg/sources/{id}/")(lambda call, id=id: self._get(call, id))
        return source

    def revoke_tokens(self) -> None:
        with self.lock:
            self.access.clear()

    def expired(self, token: str) -> bool:
        return clock.time() >= self.access.get(token, 0)

    # --- tokens --------------------------------------------------------------------------------
    def _token(self, kind: str, lifetime: float) -> str:
        n = next(self._counter)
        if self.jwt_tokens:
            claims = {"token_type": kind, "exp": int(clock.time() + lifetime) if kind == "refresh"
                      else clock.time() + lifetime, "jti": f"{kind}-{n}"}
            return f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(claims)}.sig{n}"
        return f"{kind}-token-{n}"

    def _new_access(self) -> str:
        token = self._token("access", self.access_lifetime)
        self.access[token] = clock.time() + self.access_lifetime
        return token

    def _login(self, call):
        if self.login_status:
            return self.login_status, {"detail": "User account is disabled."}
        body = _body(call)
        if body.get("username") != self.username or body.get("password") != self.password:
            return 401, BAD_LOGIN
        with self.lock:
            self.logins += 1
            refresh = self._token("refresh", 86400)
            self.refresh_tokens.add(refresh)
            return 200, {"access": self._new_access(), "refresh": refresh}

    def _refresh(self, call):
        body = _body(call)
        with self.lock:
            if body.get("refresh") not in self.refresh_tokens:
                return 401, INVALID_TOKEN
            self.refreshes += 1
            return 200, {"access": self._new_access()}

    def _authorized(self, call):
        header = call.headers.get("authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        with self.lock:
            if not token or self.expired(token):
                return 401, INVALID_TOKEN
        if self.api_status:
            return self.api_status, {"detail": "You do not have permission to perform this action."
                                     if self.api_status == 403 else "Internal server error"}
        return None

    # --- EPG API -------------------------------------------------------------------------------
    def _list(self, call):
        return self._authorized(call) or (200, list(self.sources.values()))

    def _get(self, call, id):
        denied = self._authorized(call)
        if denied:
            return denied
        with self.lock:
            source = self.sources.get(id)
            if source is None:
                return 404, {"detail": "No EPGSource matches the given query."}
            plan = self._plans.get(id)
            if plan:
                status = plan.pop(0)
                source["status"] = status
                if status == "success":
                    stamp = f"2026-01-01T00:00:{next(self._stamp):02d}Z"
                    source["updated_at"] = source["last_refresh"] = stamp
                    source["last_message"] = "Successfully parsed EPG data"
                elif status == "error":
                    source["last_message"] = self.error_message
            return 200, dict(source)

    def _import(self, call):
        denied = self._authorized(call)
        if denied:
            return denied
        epg_id = _body(call).get("id")
        with self.lock:
            source = self.sources.get(epg_id)
            if source is None:
                return 404, {"success": False, "message": "EPG source not found."}
            if source["source_type"] == "dummy":
                return 400, {"success": False, "message": "Dummy EPG sources do not require refreshing."}
            self.imports.append(epg_id)
            self._plans[epg_id] = list(self.import_plan)
            return 202, {"success": True, "message": "EPG data import initiated."}


def make_fake(server: FakeServer, **kwargs) -> FakeDispatcharr:
    """A fake with the guide's appendix sources: 21 (url, ends in epg.xml), 7 (url), 10 (dummy)."""
    fake = FakeDispatcharr(server, **kwargs)
    fake.add_source(7, "@Provider EPG - MSX", url="http://provider.example/xmltv.php?user=x")
    fake.add_source(21, "_Teamarr - Detroit Sports", url="http://192.168.1.20:8000/output/epg.xml")
    fake.add_source(10, "_Dummy - Infinity All Sports US", source_type="dummy")
    return fake


class MovableClock:
    """``homelab.clock`` for a test (the ``clock`` fixture of tests/epg_remote): ``monotonic()`` stands still
    except when code sleeps, which moves the clock at once instead of waiting (``sleeps`` lists the waits), or when
    the test calls ``travel(seconds)``; ``now()`` / ``time()`` move by the same amount. Durations come out exact."""

    def __init__(self):
        self.start = clock.monotonic()
        self.moved = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.start + self.moved

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.travel(seconds)

    def travel(self, seconds: float) -> None:
        self.moved += seconds
        clock.travel(seconds)


def closed_port_url() -> str:
    """The URL of a local port nothing listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
