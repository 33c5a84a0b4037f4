"""A fake Plex Media Server and a fake plex.tv over real HTTP.

``FakePMS``: ``/identity`` (open) and ``/library/sections`` (``X-Plex-Token`` header or query), JSON when asked
for it, XML otherwise, as Plex answers.

``FakePlexTV``: the PIN sign-in (``POST /api/v2/pins``, ``GET /api/v2/pins/{id}``; ``approve()`` plays the user
signing in), ``GET /api/v2/user``, the owner's friends (``GET /api/users``, XML), the server's sections as plex.tv
numbers them (``GET /api/servers/{machineId}``), sharing libraries with an account
(``POST /api/servers/{machineId}/shared_servers``) and removing a share (``DELETE .../shared_servers/{id}``).
Shares are recorded in ``shares`` (id -> dict) for tests. ``down = True`` makes it answer 503.
"""
from __future__ import annotations

import itertools
import threading
import uuid
from xml.sax.saxutils import quoteattr

from .routing import PatternServer


def token_of(call) -> str | None:
    return call.headers.get("x-plex-token") or call.query.get("X-Plex-Token")


def wants_json(call) -> bool:
    return "application/json" in (call.headers.get("accept") or "")


class FakePMS:
    def __init__(self, token: str = "plex-owner-token-1", sections=None, name: str = "Fake Plex"):
        self.token = token
        self.name = name
        self.machine_identifier = uuid.uuid4().hex
        self.sections = sections or [("1", "Movies", "movie"), ("2", "TV Shows", "show")]
        self.down = False
        self.server = PatternServer()
        self.server.route("GET", "/identity")(self.identity)
        self.server.route("GET", "/library/sections")(self.library_sections)

    def start(self):
        self.server.start()
        return self

    def stop(self):
        self.server.stop()

    @property
    def url(self):
        return self.server.url

    def identity(self, call):
        if self.down:
            return 503, "down"
        if wants_json(call):
            return 200, {"MediaContainer": {"size": 0, "claimed": True, "machineIdentifier": self.machine_identifier,
                                            "version": "1.41.0.8992"}}
        return 200, (f'<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer size="0" claimed="1" '
                     f'machineIdentifier="{self.machine_identifier}" version="1.41.0.8992"/>'), \
            {"Content-Type": "text/xml;charset=utf-8"}

    def library_sections(self, call):
        if self.down:
            return 503, "down"
        if token_of(call) != self.token:
            return 401, "<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>", \
                {"Content-Type": "text/html"}
        if wants_json(call):
            return 200, {"MediaContainer": {"size": len(self.sections), "Directory": [
                {"key": k, "title": t, "type": ty, "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, k))}
                for k, t, ty in self.sections]}}
        dirs = "".join(f'<Directory key="{k}" title={quoteattr(t)} type="{ty}"/>' for k, t, ty in self.sections)
        return 200, f'<MediaContainer size="{len(self.sections)}">{dirs}</MediaContainer>', \
            {"Content-Type": "text/xml;charset=utf-8"}


class FakePlexTV:
    def __init__(self, owner_token: str = "plex-owner-token-1"):
        self.owner_token = owner_token
        self.lock = threading.Lock()
        self.pins: dict[int, dict] = {}
        self.accounts: dict[str, dict] = {}        # user token -> account
        self.friends: dict[int, dict] = {}         # account id -> {"account", "servers": {machine: share_id}}
        self.shares: dict[int, dict] = {}          # share id -> {"machine", "account_id", "section_ids", "settings"}
        self.servers: dict[str, list[dict]] = {}   # machine id -> sections [{id, key, title}]
        self.down = False
        self.refuse_share = False
        self._ids = itertools.count(1000)
        self.server = PatternServer()
        s = self.server
        s.route("POST", "/api/v2/pins")(self._guard(self.create_pin, owner=False))
        s.route("GET", "/api/v2/pins/{id}")(self._guard(self.check_pin, owner=False))
        s.route("GET", "/api/v2/user")(self._guard(self.user_info, owner=False))
        s.route("GET", "/api/users")(self._guard(self.list_users))
        s.route("GET", "/api/servers/{machine}")(self._guard(self.server_sections))
        s.route("POST", "/api/servers/{machine}/shared_servers")(self._guard(self.share))
        s.route("DELETE", "/api/servers/{machine}/shared_servers/{share}")(self._guard(self.unshare))

    def start(self):
        self.server.start()
        return self

    def stop(self):
        self.server.stop()

    @property
    def url(self):
        return self.server.url

    @property
    def calls(self):
        return self.server.calls

    # --- set-up helpers ---
    def add_server(self, pms: FakePMS):
        """plex.tv knows the owner's server and numbers its sections itself (not the PMS keys)."""
        self.servers[pms.machine_identifier] = [
            {"id": str(next(self._ids)), "key": k, "title": t} for k, t, _ in pms.sections]

    def add_account(self, username: str, email: str | None = None) -> tuple[dict, str]:
        token = uuid.uuid4().hex
        account = {"id": next(self._ids), "uuid": uuid.uuid4().hex[:16], "username": username,
                   "title": username, "email": email or f"{username}@example.com"}
        self.accounts[token] = account
        return account, token

    def approve(self, pin_id: int, token: str) -> None:
        """The user signed in at plex.tv and allowed the PIN."""
        self.pins[int(pin_id)]["authToken"] = token

    def add_friend(self, account: dict, machine: str) -> int:
        share_id = next(self._ids)
        self.friends.setdefault(account["id"], {"account": account, "servers": {}})["servers"][machine] = share_id
        self.shares[share_id] = {"machine": machine, "account_id": account["id"], "section_ids": [], "settings": {}}
        return share_id

    def section_ids(self, machine: str, keys) -> list[str]:
        return [s["id"] for s in self.servers[machine] if s["key"] in keys]

    # --- routes ---
    def _guard(self, fn, owner=True):
        def handler(call):
            if self.down:
                return 503, "down"
            if owner and token_of(call) != self.owner_token:
                return 401, {"errors": [{"code": 1001, "message": "User could not be authenticated"}]}
            return fn(call)
        return handler

    def create_pin(self, call):
        client = call.headers.get("x-plex-client-identifier")
        if not client or not call.headers.get("x-plex-product"):
            return 400, {"errors": [{"code": 1000, "message": "X-Plex-Client-Identifier is missing"}]}
        pin_id = next(self._ids)
        pin = {"id": pin_id, "code": uuid.uuid4().hex[:8], "product": call.headers["x-plex-product"],
               "trusted": False, "clientIdentifier": client, "expiresIn": 1800, "authToken": None,
               "newRegistration": None}
        self.pins[pin_id] = pin
        return 201, pin

    def check_pin(self, call):
        pin = self.pins.get(int(call.params["id"])) if call.params["id"].isdigit() else None
        if pin is None or call.headers.get("x-plex-client-identifier") != pin["clientIdentifier"]:
            return 404, {"errors": [{"code": 1020, "message": "Code not found or expired"}]}
        return 200, pin

    def user_info(self, call):
        account = self.accounts.get(token_of(call) or "")
        if account is None:
            return 401, {"errors": [{"code": 1001, "message": "User could not be authenticated"}]}
        return 200, {**account, "authToken": token_of(call)}

    def list_users(self, call):
        parts = []
        for friend in self.friends.values():
            a = friend["account"]
            servers = "".join(
                f'<Server id="{sid}" serverId="1" machineIdentifier="{m}" name="srv" lastSeenAt="0" '
                f'numLibraries="1" allLibraries="0" owned="0" pending="0"/>' for m, sid in friend["servers"].items())
            parts.append(f'<User id="{a["id"]}" title={quoteattr(a["title"])} username={quoteattr(a["username"])} '
                         f'email={quoteattr(a["email"])} recommendationsPlaylistId="" thumb="">{servers}</User>')
        body = f'<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer friendlyName="myPlex" size="{len(parts)}">' \
               + "".join(parts) + "</MediaContainer>"
        return 200, body, {"Content-Type": "application/xml"}

    def server_sections(self, call):
        sections = self.servers.get(call.params["machine"])
        if sections is None:
            return 404, "Not found"
        inner = "".join(f'<Section id="{s["id"]}" key="{s["key"]}" title={quoteattr(s["title"])} type="movie"/>'
                        for s in sections)
        return 200, (f'<MediaContainer size="1"><Server machineIdentifier="{call.params["machine"]}">{inner}'
                     f'</Server></MediaContainer>'), {"Content-Type": "application/xml"}

    def share(self, call):
        machine = call.params["machine"]
        if machine not in self.servers:
            return 404, "Server not found"
        body = call.json() or {}
        shared = body.get("shared_server") or {}
        email = shared.get("invited_email")
        account = next((a for a in self.accounts.values() if email in (a["email"], a["username"])), None)
        if self.refuse_share or account is None or body.get("server_id") != machine:
            return 400, {"errors": [{"code": 1001, "message": "Unable to find user"}]}
        valid = {s["id"] for s in self.servers[machine]}
        ids = [str(i) for i in shared.get("library_section_ids") or []]
        if not ids or not set(ids) <= valid:
            return 400, {"errors": [{"code": 1002, "message": "Invalid library section ids"}]}
        with self.lock:
            share_id = self.add_friend(account, machine)
            self.shares[share_id].update(section_ids=ids, settings=body.get("sharing_settings") or {})
        return 200, (f'<MediaContainer size="1"><SharedServer id="{share_id}" username={quoteattr(account["username"])} '
                     f'email={quoteattr(account["email"])} userID="{account["id"]}" accepted="0"/></MediaContainer>'), \
            {"Content-Type": "application/xml"}

    def unshare(self, call):
        share_id = int(call.params["share"]) if call.params["share"].isdigit() else -1
        with self.lock:
            share = self.shares.pop(share_id, None)
            if share is None:
                return 404, "Not found"
            friend = self.friends.get(share["account_id"])
            if friend:
                friend["servers"].pop(share["machine"], None)
                if not friend["servers"]:
                    self.friends.pop(share["account_id"])
        return 200, ""
