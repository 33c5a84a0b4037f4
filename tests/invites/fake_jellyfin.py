"""A fake Jellyfin (or Emby, ``flavour="emby"``) over real HTTP, as far as the invites app uses it.

It requires the API key in every form Jellyfin accepts (``X-Emby-Token``, ``X-MediaBrowser-Token``,
``Authorization`` / ``X-Emby-Authorization: MediaBrowser ..., Token="..."``, the ``api_key`` query), refuses a
duplicate user name (case-insensitively, HTTP 400, as Jellyfin does), refuses a policy without its provider ids
(as Jellyfin 10.9+ does), and records users, policies and passwords so that tests can assert on them.
Emby's routes answer with and without the ``/emby`` prefix; Emby takes the password in a second call and grants
folders by Guid. ``down = True`` makes every route answer 503.
"""
from __future__ import annotations

import re
import threading
import uuid

from .routing import PatternServer

TOKEN_RE = re.compile(r'Token="([^"]*)"')
AUTH_PROVIDER = "Jellyfin.Server.Implementations.Users.DefaultAuthenticationProvider"
RESET_PROVIDER = "Jellyfin.Server.Implementations.Users.DefaultPasswordResetProvider"


def key_from(call) -> str | None:
    """The API key of a request, in any form Jellyfin reads."""
    h = call.headers
    for name in ("x-emby-token", "x-mediabrowser-token"):
        if h.get(name):
            return h[name]
    for name in ("authorization", "x-emby-authorization"):
        match = TOKEN_RE.search(h.get(name) or "")
        if match and (h.get(name) or "").lstrip().lower().startswith(("mediabrowser", "emby")):
            return match.group(1)
    for name in ("api_key", "ApiKey", "apikey"):
        if call.query.get(name):
            return call.query[name]
    return None


class FakeJellyfin:
    def __init__(self, api_key: str = "jf-key-0123456789", flavour: str = "jellyfin",
                 folders: list[tuple[str, str]] | None = None, name: str = "Fake Jellyfin"):
        self.api_key = api_key
        self.flavour = flavour
        self.name = name
        self.server_id = uuid.uuid4().hex
        self.lock = threading.Lock()
        self.users: dict[str, dict] = {}
        self.passwords: dict[str, str] = {}
        self.folders = [
            {"Name": n, "Id": fid, "Guid": str(uuid.uuid5(uuid.NAMESPACE_URL, fid)), "CollectionType": "movies"}
            for n, fid in (folders or [("Movies", "f1movies"), ("Shows", "f2shows"), ("Music", "f3music")])
        ]
        self.down = False
        self.empty_users = False       # GET /Users answers [] (a broken answer the sync must not act on)
        self.fail_create = False       # POST /Users/New answers 500
        self.create_gate = None        # a threading.Event that /Users/New waits for (concurrency tests)
        self.server = PatternServer()
        self._routes()
        self.admin = self.add_user("admin", "admin-password", IsAdministrator=True)  # as a set-up Jellyfin has

    def invited(self) -> list[str]:
        """The names of the users other than the administrator."""
        return [u["Name"] for u in self.users.values() if not u["Policy"].get("IsAdministrator")]

    # --- life ---
    def start(self):
        self.server.start()
        return self

    def stop(self):
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def calls(self):
        return self.server.calls

    # --- helpers for tests ---
    def add_user(self, name: str, password: str = "", **policy) -> dict:
        with self.lock:
            user = self._new_user(name)
            user["Policy"].update(policy)
            self.passwords[user["Id"]] = password
            return user

    def user_named(self, name: str) -> dict | None:
        for user in self.users.values():
            if user["Name"].lower() == name.lower():
                return user
        return None

    def folder_grants(self) -> list[str]:
        """What EnabledFolders holds for a folder: its Id (Jellyfin) or its Guid (Emby)."""
        key = "Guid" if self.flavour == "emby" else "Id"
        return [f[key] for f in self.folders]

    def _new_user(self, name: str) -> dict:
        uid = uuid.uuid4().hex
        user = {
            "Name": name, "Id": uid, "ServerId": self.server_id, "HasPassword": False,
            "Policy": {
                "IsAdministrator": False, "IsDisabled": False, "EnableAllFolders": True, "EnabledFolders": [],
                "EnableContentDownloading": True, "EnableLiveTvAccess": True, "EnableRemoteAccess": True,
                "AuthenticationProviderId": AUTH_PROVIDER, "PasswordResetProviderId": RESET_PROVIDER,
            },
        }
        self.users[uid] = user
        return user

    # --- routes ---
    def _routes(self):
        prefixes = ["", "/emby"] if self.flavour == "emby" else [""]
        table = [
            ("GET", "/System/Info", self.system_info),
            ("GET", "/Library/MediaFolders", self.media_folders),
            ("GET", "/Users", self.list_users),
            ("POST", "/Users/New", self.create_user),
            ("GET", "/Users/{id}", self.get_user),
            ("DELETE", "/Users/{id}", self.delete_user),
            ("POST", "/Users/{id}/Policy", self.set_policy),
            ("POST", "/Users/{id}/Password", self.set_password),
        ]
        for prefix in prefixes:
            for method, path, fn in table:
                self.server.route(method, prefix + path)(self._guard(fn))

    def _guard(self, fn):
        def handler(call):
            if self.down:
                return 503, "Service Unavailable"
            if key_from(call) != self.api_key:
                return 401, "Unauthorized"
            return fn(call)
        return handler

    def system_info(self, call):
        return 200, {"ServerName": self.name, "Version": "10.10.7" if self.flavour == "jellyfin" else "4.8.11.0",
                     "Id": self.server_id, "ProductName": "Jellyfin Server" if self.flavour == "jellyfin" else "Emby Server"}

    def media_folders(self, call):
        return 200, {"Items": self.folders, "TotalRecordCount": len(self.folders)}

    def list_users(self, call):
        if self.empty_users:
            return 200, []
        with self.lock:
            return 200, list(self.users.values())

    def create_user(self, call):
        if self.create_gate is not None:
            self.create_gate.wait(10)
        if self.fail_create:
            return 500, "Internal Server Error"
        body = call.json() or {}
        name = body.get("Name")
        if not name:
            return 400, "Name is required"
        with self.lock:
            if self.user_named(name):
                return 400, f"A user with the name '{name}' already exists."
            user = self._new_user(name)
            if self.flavour == "jellyfin" and body.get("Password"):
                self.passwords[user["Id"]] = body["Password"]
                user["HasPassword"] = True
            return 200, user

    def get_user(self, call):
        user = self.users.get(call.params["id"])
        return (200, user) if user else (404, "User not found")

    def delete_user(self, call):
        with self.lock:
            user = self.users.pop(call.params["id"], None)
        return (204, None) if user else (404, "User not found")

    def set_policy(self, call):
        user = self.users.get(call.params["id"])
        if user is None:
            return 404, "User not found"
        policy = call.json() or {}
        if self.flavour == "jellyfin" and not (policy.get("AuthenticationProviderId") and
                                               policy.get("PasswordResetProviderId")):
            return 400, "AuthenticationProviderId and PasswordResetProviderId are required"
        with self.lock:
            user["Policy"] = policy
        return 204, None

    def set_password(self, call):
        user = self.users.get(call.params["id"])
        if user is None:
            return 404, "User not found"
        body = call.json() or {}
        if "NewPw" not in body:
            return 400, "NewPw is required"
        with self.lock:
            self.passwords[user["Id"]] = body["NewPw"]
            user["HasPassword"] = bool(body["NewPw"])
        return 204, None
