"""Clients of the media servers: one small class per server type behind one interface.

Each is built on ``GenericAPIClient.for_service(server.service)`` (the Service row holds URL and the encrypted key)
in the auth mode of its type: ``jellyfin`` / ``emby`` (``X-Emby-Token`` + ``Authorization: MediaBrowser
Token=...``), ``plex`` (``X-Plex-Token`` + the client identity headers). Plex's accounts and shares live on plex.tv (``settings.PLEX_TV_URL``), see ``plextv.py``.

python-plexapi is not used: its plex.tv URLs are class constants (``https://plex.tv/...``) that tests cannot point
at a fake without patching, and the three plex.tv calls we make are a few lines of plain HTTP.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from integrations.client import APIError, GenericAPIClient

from . import parsers

logger = logging.getLogger("invites.clients")

# The GenericAPIClient auth mode per server type (integrations/auth/: jellyfin and emby send the key as
# X-Emby-Token and Authorization: MediaBrowser Token="..."; plex sends X-Plex-Token and the client identity).
AUTH_MODES = {"jellyfin": "jellyfin", "emby": "emby", "plex": "plex"}


class ServerError(Exception):
    """A media server refused or failed a call. ``message`` is safe to show (no secrets); ``temporary`` is True
    when trying again later may work (unreachable, 5xx)."""

    def __init__(self, message: str, *, temporary: bool = False):
        super().__init__(message)
        self.message = message
        self.temporary = temporary


class UsernameTaken(ServerError):
    pass


@dataclass
class Flags:
    downloads: bool = False
    live_tv: bool = False
    mobile_uploads: bool = False


@dataclass
class RemoteLibrary:
    external_id: str
    name: str
    guid: str = ""


@dataclass
class RemoteAccount:
    external_id: str
    username: str
    email: str = ""
    disabled: bool = False
    share_id: str = ""
    extra: dict = field(default_factory=dict)


def _error(server, exc: APIError, doing: str) -> ServerError:
    temporary = exc.status is None or exc.status >= 500 or exc.status == 429
    if exc.status in (401, 403):
        text = f"{server.name} refused the API key while {doing}"
    elif exc.status is None:
        text = f"{server.name} could not be reached while {doing}"
    else:
        text = f"{server.name} answered HTTP {exc.status} while {doing}"
    return ServerError(text, temporary=temporary)


class MediaServerClient:
    """The interface: verify, libraries, users, create / delete / disable an account."""

    def __init__(self, server):
        self.server = server
        self.api = GenericAPIClient.for_service(server.service, auth_type=AUTH_MODES[server.server_type])

    def call(self, method: str, path: str, doing: str, **kwargs):
        try:
            return self.api.request(method, path, **kwargs)
        except APIError as exc:
            raise _error(self.server, exc, doing) from None

    def verify(self) -> dict:
        raise NotImplementedError

    def libraries(self) -> list[RemoteLibrary]:
        raise NotImplementedError

    def users(self) -> list[RemoteAccount]:
        raise NotImplementedError

    def create_account(self, *, username: str, password: str, email: str, libraries: list, flags: Flags,
                       plex_account: dict | None = None) -> RemoteAccount:
        raise NotImplementedError

    def delete_account(self, user) -> None:
        raise NotImplementedError

    def disable_account(self, user) -> None:
        raise NotImplementedError

    def enable_account(self, user) -> None:
        """Undo ``disable_account`` (an expired account extended). Plex: its share is gone; not supported."""
        raise ServerError(f"{self.server.name}: a removed Plex share cannot be given back; invite the user again")


class JellyfinClient(MediaServerClient):
    """Jellyfin: ``POST /Users/New {Name, Password}`` then the policy, with every grant set explicitly
    (a new Jellyfin user gets downloads and all folders)."""

    folder_key = "Id"

    def verify(self) -> dict:
        info = self.call("GET", "/System/Info", "verifying the API key")
        if not isinstance(info, dict) or not (info.get("Id") or info.get("ServerName")):
            raise ServerError(f"{self.server.name} did not answer like a {self.server.get_server_type_display()} "
                              "server (GET /System/Info)")
        return info

    def libraries(self) -> list[RemoteLibrary]:
        body = self.call("GET", "/Library/MediaFolders", "listing libraries")
        items = body.get("Items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise ServerError(f"{self.server.name} sent an unexpected answer to GET /Library/MediaFolders")
        return [RemoteLibrary(str(i["Id"]), str(i.get("Name") or i["Id"]), str(i.get("Guid") or ""))
                for i in items if isinstance(i, dict) and i.get("Id")]

    def users(self) -> list[RemoteAccount]:
        body = self.call("GET", "/Users", "listing users")
        if not isinstance(body, list):
            raise ServerError(f"{self.server.name} sent an unexpected answer to GET /Users")
        if not body:  # a server always has its administrator: an empty list is a broken answer
            raise ServerError(f"{self.server.name} reported no users; nothing was changed")
        accounts = []
        for u in body:
            if not isinstance(u, dict) or not u.get("Id") or not u.get("Name"):
                # not a user: a broken answer, not a list without this account (acting on it would drop rows
                # and the expiry only we know)
                raise ServerError(f"{self.server.name} sent an unexpected answer to GET /Users; nothing was changed")
            policy = u.get("Policy") or {}
            if policy.get("IsAdministrator"):
                continue  # the server's administrators are not invited users
            accounts.append(RemoteAccount(str(u["Id"]), str(u["Name"]), disabled=bool(policy.get("IsDisabled"))))
        return accounts

    def create_account(self, *, username, password, email, libraries, flags, plex_account=None) -> RemoteAccount:
        try:
            user = self.api.request("POST", "/Users/New", **self._new_user_body(username, password))
        except APIError as exc:
            if exc.status == 400 and "already exists" in (exc.body or "").lower():
                raise UsernameTaken(f"The username {username} is already taken on {self.server.name}") from None
            raise _error(self.server, exc, "creating the account") from None
        if not isinstance(user, dict) or not user.get("Id"):
            raise ServerError(f"{self.server.name} did not return the new account")
        uid = str(user["Id"])
        try:
            self._after_create(uid, password)
            policy = user.get("Policy") if isinstance(user.get("Policy"), dict) else None
            if policy is None:
                policy = (self.call("GET", f"/Users/{uid}", "reading the account") or {}).get("Policy") or {}
            policy = dict(policy)
            policy.update({
                "IsAdministrator": False,
                "EnableAllFolders": False,
                "EnabledFolders": [self._grant(lib) for lib in libraries],
                "EnableContentDownloading": flags.downloads,
                "EnableLiveTvAccess": flags.live_tv,
                "EnableLiveTvManagement": False,
            })
            self.call("POST", f"/Users/{uid}/Policy", "setting the account's libraries", json=policy)
        except ServerError:
            # an account with the server's default grants (every folder, downloads) must not stay behind
            self._delete(uid)
            raise
        return RemoteAccount(uid, str(user.get("Name") or username), email=email)

    def _new_user_body(self, username, password) -> dict:
        return {"json": {"Name": username, "Password": password}}

    def _after_create(self, uid: str, password: str) -> None:
        pass

    def _grant(self, library) -> str:
        return library.external_id

    def _delete(self, uid: str) -> None:
        try:
            self.api.request("DELETE", f"/Users/{uid}")
        except APIError as exc:
            logger.warning("Could not remove the half-made account %s on %s: %s", uid, self.server.name, exc)

    def delete_account(self, user) -> None:
        try:
            self.api.request("DELETE", f"/Users/{user.external_id}")
        except APIError as exc:
            if exc.status == 404:
                return  # already gone: what was asked is done
            raise _error(self.server, exc, f"deleting {user.username}") from None

    def disable_account(self, user) -> None:
        try:
            found = self.api.request("GET", f"/Users/{user.external_id}")
        except APIError as exc:
            if exc.status == 404:
                return  # the account is gone: it can be used no more, which is what was asked
            raise _error(self.server, exc, f"reading {user.username}") from None
        policy = dict((found or {}).get("Policy") or {})
        policy["IsDisabled"] = True
        self.call("POST", f"/Users/{user.external_id}/Policy", f"disabling {user.username}", json=policy)

    def enable_account(self, user) -> None:
        found = self.call("GET", f"/Users/{user.external_id}", f"reading {user.username}")
        policy = dict((found or {}).get("Policy") or {}) if isinstance(found, dict) else {}
        policy["IsDisabled"] = False
        self.call("POST", f"/Users/{user.external_id}/Policy", f"enabling {user.username}", json=policy)


class EmbyClient(JellyfinClient):
    """Emby: ``POST /Users/New {Name}``, the password in a second call, folders granted by ``Guid``."""

    def _new_user_body(self, username, password) -> dict:
        return {"json": {"Name": username}}

    def _after_create(self, uid: str, password: str) -> None:
        self.call("POST", f"/Users/{uid}/Password", "setting the password",
                  json={"NewPw": password, "CurrentPw": "", "ResetPassword": False})

    def _grant(self, library) -> str:
        return library.guid or library.external_id


class PlexClient(MediaServerClient):
    """A Plex Media Server (``/identity``, ``/library/sections``); accounts are plex.tv friends with a share."""

    JSON = {"Accept": "application/json"}

    def plextv(self):
        from .plextv import PlexTV

        return PlexTV(self.server.service.api_key)

    def verify(self) -> dict:
        identity = self.call("GET", "/identity", "reading /identity", headers=self.JSON)
        try:
            machine = parsers.pms_machine_identifier(identity)
        except parsers.ParseError:
            machine = ""
        if not machine:
            raise ServerError(f"{self.server.name} did not answer like a Plex Media Server (GET /identity)")
        self.call("GET", "/library/sections", "verifying the token", headers=self.JSON)
        return {"machineIdentifier": machine}

    def libraries(self) -> list[RemoteLibrary]:
        body = self.call("GET", "/library/sections", "listing libraries", headers=self.JSON)
        try:
            sections = parsers.pms_sections(body)
        except parsers.ParseError as exc:
            raise ServerError(f"{self.server.name} sent an unexpected answer to /library/sections: {exc}") from None
        return [RemoteLibrary(s["key"], s["title"] or s["key"], s.get("uuid") or "") for s in sections]

    def users(self) -> list[RemoteAccount]:
        machine = self.server.machine_identifier
        friends = self.plextv().friends()
        if not friends:  # Wizarr once deleted every user on an empty plex.tv answer
            raise ServerError(f"plex.tv reported no shared users for {self.server.name}; nothing was changed")
        mine = [u for u in friends if machine in u["servers"]]
        if any(not u["id"] or not u["username"] for u in mine):
            # not a user: a broken answer (acting on it would drop rows and the expiry only we know)
            raise ServerError(f"plex.tv sent an unexpected answer to /api/users for {self.server.name}; "
                              "nothing was changed")
        return [RemoteAccount(u["id"], u["username"], email=u["email"], share_id=u["servers"][machine] or "")
                for u in mine]

    def create_account(self, *, username, password, email, libraries, flags, plex_account=None) -> RemoteAccount:
        if not plex_account:
            raise ServerError(f"{self.server.name}: sign in with Plex first")
        share_id = self.plextv().share(
            self.server.machine_identifier, invited=plex_account.get("email") or plex_account["username"],
            section_keys=[lib.external_id for lib in libraries], flags=flags, server_name=self.server.name)
        return RemoteAccount(str(plex_account["id"]), plex_account["username"], email=plex_account.get("email") or "",
                             share_id=share_id)

    def delete_account(self, user) -> None:
        plextv = self.plextv()
        share_id = user.share_id
        if not share_id:  # not recorded (an older sync): plex.tv's list of friends says
            friend = next((f for f in plextv.friends() if str(f["id"]) == str(user.external_id)), None)
            share_id = (friend or {}).get("servers", {}).get(self.server.machine_identifier)
            if not share_id:
                return  # this server is not shared with the account (any more)
        plextv.unshare(self.server.machine_identifier, share_id, server_name=self.server.name)

    disable_account = delete_account  # Plex has no disabled state: the share is removed


CLIENTS = {"jellyfin": JellyfinClient, "emby": EmbyClient, "plex": PlexClient}


def client_for(server) -> MediaServerClient:
    try:
        return CLIENTS[server.server_type](server)
    except APIError as exc:  # no URL, or not an http(s) URL
        raise ServerError(f"{server.name}: {exc.message}") from None
