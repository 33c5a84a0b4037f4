"""plex.tv (``settings.PLEX_TV_URL``): the PIN sign-in of a joining user, their account, and the owner's shares.

PIN OAuth: ``POST /api/v2/pins?strong=true`` gives ``{id, code}``; the browser goes to the sign-in app
(``INVITES_PLEX_AUTH_URL#?clientID=..&code=..&forwardUrl=..``); ``GET /api/v2/pins/{id}`` then carries the
user's ``authToken``, and ``GET /api/v2/user`` with it says who they are. Sharing libraries with that account is
``POST /api/servers/{machineId}/shared_servers`` with the owner's token and plex.tv's own section ids
(``GET /api/servers/{machineId}`` maps the server's section keys to them), as python-plexapi's inviteFriend does.
"""
from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings

from integrations.auth.plex import plex_tv_client
from integrations.client import APIError

from . import parsers
from .clients import Flags, ServerError

JSON = {"Accept": "application/json"}


def _fail(exc: APIError, doing: str) -> ServerError:
    temporary = exc.status is None or exc.status >= 500 or exc.status == 429
    if exc.status is None:
        return ServerError(f"plex.tv could not be reached while {doing}", temporary=True)
    if exc.status == 401:
        return ServerError(f"plex.tv refused the token while {doing}")
    return ServerError(f"plex.tv answered HTTP {exc.status} while {doing}", temporary=temporary)


def auth_url(code: str, forward_url: str) -> str:
    """Where the browser signs in and allows the PIN, then comes back to ``forward_url``."""
    query = urlencode({"clientID": settings.PLEX_CLIENT_IDENTIFIER, "code": code, "forwardUrl": forward_url,
                       "context[device][product]": settings.PLEX_PRODUCT})
    return f"{settings.INVITES_PLEX_AUTH_URL}#?{query}"


class PlexTV:
    """plex.tv through the ``plex`` auth mode: the token (when given) and the client identity on every call."""

    def __init__(self, token: str | None = None):
        self.api = plex_tv_client(token or None)

    def _call(self, method, path, doing, **kwargs):
        headers = {**JSON, **kwargs.pop("headers", {})}
        try:
            return self.api.request(method, path, headers=headers, **kwargs)
        except APIError as exc:
            raise _fail(exc, doing) from None

    # --- the joining user's sign-in ---
    def create_pin(self) -> dict:
        pin = self._call("POST", "/api/v2/pins", "starting the Plex sign-in", params={"strong": "true"})
        if not isinstance(pin, dict) or not pin.get("id") or not pin.get("code"):
            raise ServerError("plex.tv did not return a PIN")
        return {"id": int(pin["id"]), "code": str(pin["code"])}

    def pin_token(self, pin_id: int) -> str | None:
        """The user's token once they allowed the PIN, else None."""
        pin = self._call("GET", f"/api/v2/pins/{int(pin_id)}", "checking the Plex sign-in")
        token = pin.get("authToken") if isinstance(pin, dict) else None
        return str(token) if token else None

    def account(self) -> dict:
        """Who this token belongs to: ``{"id", "username", "email"}``."""
        user = self._call("GET", "/api/v2/user", "reading your Plex account")
        if not isinstance(user, dict) or not user.get("id"):
            raise ServerError("plex.tv did not return the account")
        return {"id": str(user["id"]), "username": str(user.get("username") or user.get("title") or ""),
                "email": str(user.get("email") or "")}

    # --- the owner's side ---
    def friends(self) -> list[dict]:
        text = self._call("GET", "/api/users", "listing shared users", headers={"Accept": "application/xml"})
        try:
            return parsers.plex_users(text if isinstance(text, str) else "")
        except parsers.ParseError as exc:
            raise ServerError(f"plex.tv sent an unexpected answer to /api/users: {exc}") from None

    def section_ids(self, machine: str, keys: list[str]) -> list[str]:
        text = self._call("GET", f"/api/servers/{machine}", "reading the server's libraries",
                          headers={"Accept": "application/xml"})
        try:
            sections = parsers.plex_server_sections(text if isinstance(text, str) else "")
        except parsers.ParseError as exc:
            raise ServerError(f"plex.tv sent an unexpected answer to /api/servers: {exc}") from None
        by_key = {s["key"]: s["id"] for s in sections}
        missing = [k for k in keys if k not in by_key]
        if missing:
            raise ServerError(f"plex.tv does not know the libraries {', '.join(missing)} of this server")
        return [by_key[k] for k in keys]

    def share(self, machine: str, *, invited: str, section_keys: list[str], flags: Flags, server_name: str) -> str:
        ids = self.section_ids(machine, section_keys)
        on = lambda b: "1" if b else "0"  # noqa: E731
        body = {
            "server_id": machine,
            "shared_server": {"library_section_ids": ids, "invited_email": invited},
            "sharing_settings": {"allowSync": on(flags.downloads), "allowCameraUpload": on(flags.mobile_uploads),
                                 "allowChannels": on(flags.live_tv), "allowTuners": "3" if flags.live_tv else "0",
                                 "filterMovies": "", "filterTelevision": "", "filterMusic": ""},
        }
        text = self._call("POST", f"/api/servers/{machine}/shared_servers", f"sharing {server_name}", json=body,
                          headers={"Accept": "application/xml"})
        try:
            return parsers.plex_shared_server_id(text) if isinstance(text, str) and text.strip() else ""
        except parsers.ParseError:
            return ""

    def unshare(self, machine: str, share_id: str, *, server_name: str) -> None:
        if not share_id:
            raise ServerError(f"{server_name}: the share of this account is not known (sync the users first)")
        try:
            self.api.request("DELETE", f"/api/servers/{machine}/shared_servers/{share_id}", headers=JSON)
        except APIError as exc:
            if exc.status == 404:
                return  # already removed
            raise _fail(exc, f"removing the share of {server_name}") from None
