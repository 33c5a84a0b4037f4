"""The EPG manager of the Dispatcharr integration guide, on top of an authenticated Dispatcharr client.

``EPGManager(client)`` offers the guide's operations with the guide's return values and messages:
``list_sources(include_dummy)``, ``get_source``, ``find_by_name(name, exact)``, ``find_by_url(filename)``,
``refresh``, ``refresh_multiple``, ``refresh_all(skip_dummy)``, ``refresh_by_name`` and
``wait_for_refresh(epg_id, timeout=60, poll_interval=2)``. Like the guide, those never raise for a remote
failure: they return ``[]`` / ``None`` / ``{"success": False, ...}`` and keep the reason in ``last_error``.

The strict variants (``fetch_sources``, ``fetch_source``, ``trigger_import``) raise ``DispatcharrError``,
whose ``kind`` says what went wrong (authentication, permission, missing source, temporary, permanent); the
push task and the API use them to report a precise reason and to decide whether to retry.

``client`` is anything with ``request(method, endpoint, json=None, raw=True)`` returning a
``requests.Response`` (in production the integrations ``GenericAPIClient`` in JWT mode, see ``clients.py``)
and raising ``homelab.http.HTTPError`` for transport or login failures. Waits read ``homelab.clock``
(``monotonic`` / ``sleep``), so tests move the clock instead of waiting; ``clock`` and ``sleep`` may also be given.
"""
from __future__ import annotations

import logging
from typing import Any, Callable
from urllib.parse import unquote, urlsplit

from homelab import clock as project_clock
from homelab.http import HTTPError, is_temporary

logger = logging.getLogger("epg.remote")

SOURCES = "/api/epg/sources/"
IMPORT = "/api/epg/import/"
TERMINAL = ("success", "error")
IN_PROGRESS = ("fetching", "parsing")


class DispatcharrError(Exception):
    """A remote failure with a readable message and a kind:
    ``auth`` (login refused or token rejected), ``forbidden`` (403), ``not_found``, ``bad_request``,
    ``temporary`` (connection refused, timeout, 5xx, 429: worth retrying) or ``permanent``."""

    AUTH, FORBIDDEN, NOT_FOUND, BAD_REQUEST, TEMPORARY, PERMANENT = (
        "auth", "forbidden", "not_found", "bad_request", "temporary", "permanent")

    def __init__(self, message: str, *, kind: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status = status

    @property
    def temporary(self) -> bool:
        return self.kind == self.TEMPORARY

    @property
    def is_auth(self) -> bool:
        return self.kind in (self.AUTH, self.FORBIDDEN)

    def __str__(self):
        return self.message


def _remote_text(response) -> str:
    """The remote's own explanation (``message`` or ``detail``), if its body is JSON and has one."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        for key in ("message", "detail", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
    return ""


def error_for_status(response, what: str) -> DispatcharrError:
    status = response.status_code
    remote = _remote_text(response)
    suffix = f": {remote}" if remote else ""
    if status == 401:
        return DispatcharrError(f"{what}: authentication failed (HTTP 401){suffix}", kind=DispatcharrError.AUTH,
                                status=status)
    if status == 403:
        return DispatcharrError(f"{what}: forbidden (HTTP 403), the user lacks permission{suffix}",
                                kind=DispatcharrError.FORBIDDEN, status=status)
    if status == 404:
        return DispatcharrError(f"{what}: not found (HTTP 404){suffix}", kind=DispatcharrError.NOT_FOUND,
                                status=status)
    if status == 400:
        return DispatcharrError(f"{what}: refused (HTTP 400){suffix}", kind=DispatcharrError.BAD_REQUEST,
                                status=status)
    if is_temporary(status):
        return DispatcharrError(f"{what}: Dispatcharr answered HTTP {status}{suffix}",
                                kind=DispatcharrError.TEMPORARY, status=status)
    return DispatcharrError(f"{what}: unexpected HTTP {status}{suffix}", kind=DispatcharrError.PERMANENT,
                            status=status)


def error_from_http(exc: HTTPError, what: str) -> DispatcharrError:
    """A client-side failure (refused connection, timeout, refused login) as a DispatcharrError."""
    status = getattr(exc, "status", None)
    detail = str(exc)
    if status == 401:
        return DispatcharrError(f"{what}: authentication failed: {detail}",
                                kind=DispatcharrError.AUTH, status=status)
    if status == 403:
        return DispatcharrError(f"{what}: forbidden, the account is disabled or lacks permission ({detail})",
                                kind=DispatcharrError.FORBIDDEN, status=status)
    if is_temporary(status) and not exc.permanent:
        if status is None:
            return DispatcharrError(f"{what}: Dispatcharr is unreachable ({detail})", kind=DispatcharrError.TEMPORARY)
        return DispatcharrError(f"{what}: Dispatcharr answered HTTP {status} ({detail})",
                                kind=DispatcharrError.TEMPORARY, status=status)
    return DispatcharrError(f"{what}: {detail}", kind=DispatcharrError.PERMANENT, status=status)


def url_filename(url: str) -> str:
    """The last path segment of a URL, percent-decoded, without query string or trailing slash:
    ``http://10.0.0.5:8000/output/epg.xml?x=1`` -> ``epg.xml``."""
    try:
        path = urlsplit(url or "").path
    except ValueError:
        path = url or ""
    return unquote(path.rstrip("/").rsplit("/", 1)[-1])


def match_by_filename(sources: list[dict], filename: str) -> dict | None:
    """The ``url`` source whose URL ends in ``filename`` (the guide's matching rule), whatever the host, IP
    or port in front of it. ``filename`` may also be a full URL or path (``http://host:8000/output/epg.xml``):
    its last segment is compared, and among several candidates the one with the same path wins. Active
    sources win over inactive ones."""
    wanted = url_filename(filename) if "/" in (filename or "") else (filename or "").strip()
    if not wanted:
        return None
    wanted_path = ""
    if "/" in filename:
        try:
            wanted_path = urlsplit(filename).path.rstrip("/")
        except ValueError:
            wanted_path = ""
    candidates = [
        s for s in sources
        if s.get("source_type") == "url" and url_filename(s.get("url") or "") == wanted
    ]
    if not candidates:
        return None

    def rank(source):
        try:
            same_path = bool(wanted_path) and urlsplit(source.get("url") or "").path.rstrip("/") == wanted_path
        except ValueError:
            same_path = False
        return (not same_path, not source.get("is_active", True))

    return sorted(candidates, key=rank)[0]  # sorted() is stable: the remote's order breaks ties


class EPGManager:
    def __init__(self, client, *, clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], Any] | None = None, label: str = "Dispatcharr"):
        self.client = client
        self._clock, self._sleep = clock, sleep
        self.label = label
        self.last_error: DispatcharrError | None = None

    # --- time: homelab.clock unless given, read at each call so tests can move it -------------------
    def clock(self) -> float:
        return (self._clock or project_clock.monotonic)()

    def sleep(self, seconds: float) -> None:
        (self._sleep or project_clock.sleep)(seconds)

    # --- transport --------------------------------------------------------------------------------
    def _call(self, method: str, endpoint: str, json: dict | None = None, *, what: str):
        try:
            return self.client.request(method, endpoint, json=json, raw=True)
        except HTTPError as exc:
            raise error_from_http(exc, what) from None

    # --- strict operations (raise DispatcharrError) -------------------------------------------------
    def fetch_sources(self) -> list[dict]:
        what = f"Listing EPG sources on {self.label}"
        response = self._call("GET", SOURCES, what=what)
        if response.status_code != 200:
            raise error_for_status(response, what)
        try:
            body = response.json()
        except ValueError:
            raise DispatcharrError(f"{what}: the answer is not JSON (is this a Dispatcharr URL?)",
                                   kind=DispatcharrError.PERMANENT) from None
        if isinstance(body, dict) and isinstance(body.get("results"), list):  # a paginated answer
            body = body["results"]
        if not isinstance(body, list) or not all(isinstance(s, dict) for s in body):
            raise DispatcharrError(f"{what}: the answer is not a list of EPG sources (is this a Dispatcharr URL?)",
                                   kind=DispatcharrError.PERMANENT)
        return body

    def fetch_source(self, epg_id: int) -> dict | None:
        """The source, or None when the remote says 404."""
        what = f"Reading EPG source {epg_id} on {self.label}"
        response = self._call("GET", f"{SOURCES}{int(epg_id)}/", what=what)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise error_for_status(response, what)
        try:
            body = response.json()
        except ValueError:
            raise DispatcharrError(f"{what}: the answer is not JSON", kind=DispatcharrError.PERMANENT) from None
        if not isinstance(body, dict):
            raise DispatcharrError(f"{what}: the answer is not an EPG source", kind=DispatcharrError.PERMANENT)
        return body

    def trigger_import(self, epg_id: int):
        """POST /api/epg/import/; returns the response when it is 202, else raises (400 = a dummy source,
        ``bad_request``; 404 = ``not_found``; 401/403; 5xx ``temporary``)."""
        what = f"Refreshing EPG source {epg_id} on {self.label}"
        response = self._call("POST", IMPORT, {"id": int(epg_id)}, what=what)
        if response.status_code in (200, 201, 202):
            return response
        raise error_for_status(response, what)

    # --- the guide's operations -------------------------------------------------------------------
    def list_sources(self, include_dummy: bool = True) -> list[dict]:
        try:
            sources = self.fetch_sources()
        except DispatcharrError as exc:
            self._failed(exc)
            return []
        if not include_dummy:
            sources = [s for s in sources if s.get("source_type") != "dummy"]
        return sources

    def get_source(self, epg_id: int) -> dict | None:
        try:
            return self.fetch_source(epg_id)
        except DispatcharrError as exc:
            self._failed(exc)
            return None

    def find_by_name(self, name: str, exact: bool = False) -> dict | None:
        for source in self.list_sources():
            source_name = source.get("name") or ""
            if exact:
                if source_name == name:
                    return source
            elif name.lower() in source_name.lower():
                return source
        return None

    def find_by_url(self, filename: str) -> dict | None:
        return match_by_filename(self.list_sources(), filename)

    def refresh(self, epg_id: int) -> dict:
        try:
            response = self._call("POST", IMPORT, {"id": int(epg_id)}, what=f"Refreshing EPG source {epg_id}")
        except DispatcharrError as exc:
            self._failed(exc)
            return {"success": False, "message": "Request failed"}
        if response.status_code == 202:
            return {"success": True, "message": "EPG refresh initiated"}
        self._failed(error_for_status(response, f"Refreshing EPG source {epg_id} on {self.label}"))
        if response.status_code == 400:
            return {"success": False, "message": "Cannot refresh dummy EPG source"}
        return {"success": False, "message": _remote_message(response)}

    def refresh_multiple(self, epg_ids: list[int]) -> dict[int, dict]:
        return {epg_id: self.refresh(epg_id) for epg_id in epg_ids}

    def refresh_all(self, skip_dummy: bool = True) -> dict[int, dict]:
        sources = self.list_sources(include_dummy=not skip_dummy)
        return self.refresh_multiple([s["id"] for s in sources])

    def refresh_by_name(self, name: str) -> dict:
        source = self.find_by_name(name)
        if not source:
            return {"success": False, "message": f"No EPG source found matching '{name}'"}
        return self.refresh(source["id"])

    def wait_for_refresh(self, epg_id: int, timeout: float = 60, poll_interval: float = 2) -> dict:
        """Trigger a refresh and poll ``GET /api/epg/sources/{id}/`` until it ends:
        ``{"success", "duration", "final_status", "message"}``, ``final_status`` in success / error / timeout.
        When the trigger itself fails, ``final_status`` is ``error`` and ``message`` the refresh's message."""
        source = self.get_source(epg_id)
        refresh_result = self.refresh(epg_id)
        if not refresh_result.get("success"):
            return {"success": False, "duration": 0.0, "final_status": "error", "message": refresh_result["message"]}
        outcome = self.await_completion(epg_id, source, timeout=timeout, poll_interval=poll_interval)
        return {k: outcome[k] for k in ("success", "duration", "final_status", "message")}

    def await_completion(self, epg_id: int, before: dict | None, *, timeout: float, poll_interval: float,
                         on_poll: Callable[[], bool] | None = None) -> dict:
        """Poll until the refresh triggered after ``before`` (the source as read just before triggering) ends.

        Done when ``status`` is success or error and this is a new outcome: ``updated_at`` changed (the guide's
        rule), or the source was seen fetching/parsing since the trigger, or the status differs from the one
        before (so an import that fails at once, leaving ``updated_at`` as it was, is seen too). Polls until a
        deadline on the injected monotonic clock; a poll that fails (network blip) is skipped, as in the guide.
        Returns the four keys of ``wait_for_refresh`` plus ``source`` (the last state read, or None).

        ``on_poll`` is called before each poll (the push's heartbeat); when it returns False the wait stops with
        ``final_status`` ``cancelled``."""
        initial_updated_at = (before or {}).get("updated_at")
        initial_status = (before or {}).get("status")
        start = self.clock()
        deadline = start + timeout
        seen_running = False
        last = None
        while True:
            remaining = deadline - self.clock()
            if remaining <= 0:
                break
            self.sleep(min(poll_interval, remaining))
            if on_poll is not None and on_poll() is False:
                return {"success": False, "duration": self.clock() - start, "final_status": "cancelled",
                        "message": "EPG refresh wait cancelled", "source": last}
            current = self.get_source(epg_id)
            if not current:
                continue
            last = current
            status = current.get("status") or ""
            if status in IN_PROGRESS:
                seen_running = True
                continue
            if status in TERMINAL:
                updated_at = current.get("updated_at")
                changed = bool(updated_at) and updated_at != initial_updated_at
                if changed or seen_running or (before is not None and status != initial_status):
                    duration = self.clock() - start
                    return {
                        "success": status == "success",
                        "duration": duration,
                        "final_status": status,
                        "message": f"EPG refresh {status} in {duration:.1f}s",
                        "source": current,
                    }
        return {
            "success": False,
            "duration": timeout,
            "final_status": "timeout",
            "message": f"EPG refresh timed out after {timeout}s",
            "source": last,
        }

    def _failed(self, exc: DispatcharrError) -> None:
        self.last_error = exc
        logger.warning("%s", exc.message)


def _remote_message(response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"]
    return f"HTTP {response.status_code}"
