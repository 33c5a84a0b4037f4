"""Clients of the Plex Media Server (XML, ``X-Plex-Token``) and of plex.tv (PIN sign-in, resources).

Both go through ``integrations.client.GenericAPIClient`` in its ``plex`` auth mode, so timeouts, retries,
``verify`` and the masking of the token in messages are the project's. python-plexapi calls the same URLs
(``/library/sections/{id}/all``, ``/library/metadata/{id}/tree``, ``/api/v2/pins``, ``/api/v2/resources``) but
sends them through its own ``requests`` session, outside that seam, so it is not used here.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from lxml import etree

from homelab import http
from integrations.auth.plex import plex_headers, plex_tv_client
from integrations.client import APIError, GenericAPIClient

logger = logging.getLogger("previews.plex")

VIDEO_LIBRARY_TYPES = ("movie", "show")
EPISODE_TYPE = 4  # Plex's metadata type number of an episode (?type=4 lists a show library's episodes)
PLEX_AUTH_APP = "https://app.plex.tv/auth"


class PlexError(Exception):
    """A Plex server or plex.tv could not be used: ``reason`` says why in a user's words, ``auth`` is True when
    the token was refused, ``temporary`` when Plex could not be reached or answered 5xx / 429 (worth a retry;
    a malformed answer or an unknown library is not)."""

    def __init__(self, reason: str, *, auth: bool = False, status: int | None = None, missing: bool = False,
                 temporary: bool = False):
        super().__init__(reason)
        self.reason, self.auth, self.status, self.missing = reason, auth, status, missing
        self.temporary = temporary


def _reason(exc: APIError, what: str, path: str) -> PlexError:
    What = what if what.startswith("plex.tv") else what[:1].upper() + what[1:]
    if exc.status in (401, 403):
        return PlexError(f"{What} refused the token (HTTP {exc.status}): check the Plex token.", auth=True,
                         status=exc.status)
    if exc.status is None:
        reason = str(exc).rsplit(": ", 1)[-1]  # "connection refused", "timed out", ...
        return PlexError(f"Could not reach {what}: {reason}", status=None, temporary=True)
    return PlexError(f"{What} answered HTTP {exc.status} for {path}.", status=exc.status,
                     temporary=http.is_temporary(exc.status))


@dataclass
class Part:
    """One media part of a library item (a movie or an episode may have several files)."""

    plex_id: str
    title: str
    file: str
    hash: str


class PlexServer:
    """A Plex Media Server: ``PlexServer.for_service(service)`` (the settings' Plex Service, through
    ``GenericAPIClient.for_service``), or ``PlexServer(url, token)`` for a URL / token given in a request."""

    def __init__(self, url: str, token: str, *, verify: bool = True, client: GenericAPIClient | None = None):
        if not url:
            raise PlexError("No Plex server URL is configured.", missing=True)
        if not token:
            raise PlexError("No Plex token is configured: sign in with Plex or enter a token.", auth=True, missing=True)
        try:
            self.client = client or GenericAPIClient(url, api_key=token, auth_type="plex", verify=verify)
        except APIError as exc:
            raise PlexError(str(exc)) from None
        self.url = http.redact_url(self.client.base_url)  # for messages: no userinfo

    @classmethod
    def for_service(cls, service) -> "PlexServer":
        if service is None:
            raise PlexError("No Plex server is configured: set plex_url and plex_token in the settings.", missing=True)
        url, token = service.target_url, service.api_key
        if not url or not token:
            return cls(url, token)  # says which is missing
        try:
            client = GenericAPIClient.for_service(service, auth_type="plex")
        except APIError as exc:
            raise PlexError(str(exc)) from None
        return cls(url, token, client=client)

    def _xml(self, path: str, params: dict | None = None):
        try:
            text = self.client.get(path, params=params, headers={"Accept": "application/xml"})
        except APIError as exc:
            raise _reason(exc, f"the Plex server at {self.url}", path) from None
        if not isinstance(text, str) or not text.lstrip().startswith("<"):
            raise PlexError(f"The Plex server at {self.url} did not answer XML for {path}: is it a Plex server?")
        try:
            root = etree.fromstring(text.encode(), parser=etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as exc:
            raise PlexError(f"The Plex server at {self.url} answered malformed XML for {path}: {exc}") from None
        if root.tag != "MediaContainer":
            raise PlexError(f"The Plex server at {self.url} answered <{root.tag}> for {path}, not a MediaContainer.")
        return root

    def identity(self) -> dict:
        """``{"server_name", "version", "machine_id"}`` (``/`` carries the friendly name, ``/identity`` not)."""
        root = self._xml("/")
        return {"server_name": root.get("friendlyName", ""), "version": root.get("version", ""),
                "machine_id": root.get("machineIdentifier", "")}

    def libraries(self) -> list[dict]:
        """The movie and show libraries: ``[{"id", "name", "type"}]``."""
        root = self._xml("/library/sections")
        return [{"id": d.get("key", ""), "name": d.get("title", ""), "type": d.get("type", "")}
                for d in root.iter("Directory") if d.get("type") in VIDEO_LIBRARY_TYPES]

    def library(self, library_id: str) -> dict | None:
        for library in self.libraries():
            if library["id"] == str(library_id):
                return library
        return None

    def item_count(self, library: dict) -> int:
        """Movies of a movie library, episodes of a show library (Plex's totalSize of an empty page)."""
        params = {"X-Plex-Container-Start": 0, "X-Plex-Container-Size": 0}
        if library["type"] == "show":
            params["type"] = EPISODE_TYPE
        root = self._xml(f"/library/sections/{library['id']}/all", params)
        return int(root.get("totalSize") or root.get("size") or 0)

    def items(self, library: dict) -> list[tuple[str, str]]:
        """``[(rating key, title)]``: the movies, or every episode of every show."""
        params = {"type": EPISODE_TYPE} if library["type"] == "show" else None
        root = self._xml(f"/library/sections/{library['id']}/all", params)
        found = []
        for video in root.iter("Video"):
            key = video.get("ratingKey")
            if not key:
                continue
            found.append((key, _title(video)))
        return found

    def parts(self, plex_id: str, title: str) -> list[Part]:
        """Each media part's file and hash, from ``/library/metadata/{id}/tree`` (as plex_generate_previews)."""
        root = self._xml(f"/library/metadata/{plex_id}/tree")
        parts = []
        for part in root.iter("MediaPart"):
            file, media_hash = part.get("file"), (part.get("hash") or "").strip()
            if file:  # a part without a hash is kept: the job says why it cannot be done
                parts.append(Part(plex_id=str(plex_id), title=title, file=file, hash=media_hash))
        return parts


def _title(video) -> str:
    if video.get("type") == "episode":
        show = video.get("grandparentTitle") or ""
        season, episode = video.get("parentIndex"), video.get("index")
        code = f"S{int(season):02d}E{int(episode):02d}" if (season or "").isdigit() and (episode or "").isdigit() else ""
        return " ".join(p for p in (show, code, "-" if show or code else "", video.get("title", "")) if p).strip()
    return video.get("title", "")


class PlexTV:
    """plex.tv's v2 API (JSON) at settings.PLEX_TV_URL: PIN sign-in, the user's servers."""

    def __init__(self, token: str | None = None):
        try:
            self.client = plex_tv_client(token or None)
        except APIError as exc:
            raise PlexError(str(exc)) from None

    def _call(self, method: str, path: str, **kwargs):
        try:
            body = self.client.request(method, path, headers={"Accept": "application/json"}, **kwargs)
        except APIError as exc:
            raise _reason(exc, "plex.tv", path) from None
        if not isinstance(body, (dict, list)):
            raise PlexError(f"plex.tv answered something that is not JSON for {path}.")
        return body

    def create_pin(self) -> dict:
        body = self._call("POST", "/api/v2/pins", params={"strong": "true"})
        if not isinstance(body, dict) or "id" not in body or "code" not in body:
            raise PlexError("plex.tv answered a PIN without an id or code.")
        query = urlencode({"clientID": plex_headers()["X-Plex-Client-Identifier"], "code": body["code"],
                           "context[device][product]": settings.PLEX_PRODUCT})
        return {"id": body["id"], "code": body["code"], "auth_url": f"{PLEX_AUTH_APP}#?{query}"}

    def check_pin(self, pin_id: int) -> dict:
        body = self._call("GET", f"/api/v2/pins/{pin_id}")
        token = body.get("authToken") if isinstance(body, dict) else None
        return {"authenticated": bool(token), "auth_token": token or None}

    def servers(self) -> list[dict]:
        body = self._call("GET", "/api/v2/resources", params={"includeHttps": 1, "includeRelay": 1})
        if not isinstance(body, list):
            raise PlexError("plex.tv answered a resource list that is not a list.")
        servers = []
        for resource in body:
            if not isinstance(resource, dict) or "server" not in str(resource.get("provides", "")).split(","):
                continue
            connections = [c for c in resource.get("connections") or [] if isinstance(c, dict)]
            # a direct local connection first, then direct remote ones, relays last
            connections.sort(key=lambda c: (bool(c.get("relay")), not c.get("local")))
            best = connections[0] if connections else {}
            servers.append({
                "name": resource.get("name", ""),
                "machine_id": resource.get("clientIdentifier", ""),
                "host": best.get("address", ""),
                "port": _int(best.get("port"), 32400),
                "ssl": best.get("protocol") == "https",
                "owned": bool(resource.get("owned")),
                "local": bool(best.get("local")),
            })
        return servers


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
