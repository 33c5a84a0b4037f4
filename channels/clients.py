"""Clients of IPTV providers: an Xtream Codes panel (``get.php``, ``player_api.php``) and a plain M3U URL.

Everything goes through ``homelab.http`` (timeouts, verify per provider, size caps). Credentials travel in
the query string, as Xtream wants them; ``homelab.http`` never puts a query string in a message, and the
password is registered with the log filter. Large answers (the playlist, the stream lists of a 200,000-entry
panel) are streamed to disk and read back as a stream: nothing holds a whole catalogue in memory.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterator

import requests
import urllib3
from django.conf import settings

from homelab import http
from homelab.logging import register_secret
from integrations.client import APIError, GenericAPIClient

logger = logging.getLogger("channels.clients")

AUTH_FAILED = "The provider refused the username or password."


class ProviderError(Exception):
    """A failure to talk to the provider; ``permanent`` False is worth retrying."""

    def __init__(self, message: str, *, permanent: bool = False, status: int | None = None):
        super().__init__(message)
        self.message, self.permanent, self.status = message, permanent, status

    def __str__(self):
        return self.message


class AuthRefused(ProviderError):
    def __init__(self, message: str = AUTH_FAILED):
        super().__init__(message, permanent=True, status=401)


def timeouts() -> tuple[float, float]:
    return (settings.CHANNELS_CONNECT_TIMEOUT, settings.CHANNELS_READ_TIMEOUT)


def _headers(user_agent: str) -> dict:
    ua = user_agent or settings.CHANNELS_USER_AGENT
    return {"User-Agent": ua} if ua else {}


def download(url: str, dest: IO[bytes], *, verify: bool, user_agent: str = "", params: dict | None = None,
             on_chunk=None) -> int:
    """Stream ``url`` into ``dest`` with the size cap and timeouts of the channels settings. A connection cut
    mid-answer (fewer bytes than announced, a broken chunked body, a reset) is a temporary ProviderError."""
    where = f"GET {http.redact_url(url)}"
    try:
        with http.session(verify=verify) as sess:
            response = http.request(sess, "GET", url, params=params, timeout=timeouts(), stream=True,
                                    headers=_headers(user_agent))
            with response:
                http.raise_for_status(response)
                return _save(response, dest, where, on_chunk)
    except http.HTTPError as exc:
        raise ProviderError(str(exc), permanent=exc.permanent or not http.is_temporary(exc.status),
                            status=exc.status) from None
    except _CUT as exc:
        raise ProviderError(_cut(where, exc, 0)) from None


# what a connection cut or timed out mid-answer raises
_CUT = (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, ConnectionError)


def _cut(where: str, exc: Exception, written: int) -> str:
    reason = "timed out" if "timed out" in str(exc).lower() else "the connection was cut"
    return f"{where}: {reason}" + (f" after {written} bytes" if written else "")


def _save(response, dest: IO[bytes], where: str, on_chunk=None) -> int:
    """Write a streamed answer into ``dest`` under CHANNELS_MAX_DOWNLOAD_BYTES; returns the bytes written. Over
    the cap: a permanent ProviderError; cut or timed out: a temporary one saying how far it got."""
    written = 0
    try:
        for chunk in http.iter_capped(response, settings.CHANNELS_MAX_DOWNLOAD_BYTES):
            dest.write(chunk)
            written += len(chunk)
            if on_chunk is not None:
                on_chunk(written)
    except http.TooLarge as exc:
        raise ProviderError(f"{exc} (CHANNELS_MAX_DOWNLOAD_BYTES)", permanent=True) from None
    except _CUT as exc:
        raise ProviderError(_cut(where, exc, written)) from None
    return written


@dataclass
class Enrichment:
    """What player_api.php adds to the playlist: category names and, per stream id, its category and archive
    days. Packed in ints (``category_id << 12 | days``) so that 200,000 streams cost a few MB."""

    categories: dict = field(default_factory=dict)  # (kind, category id) -> name
    streams: dict = field(default_factory=dict)  # (kind) -> {stream id: packed}
    notes: list = field(default_factory=list)

    def lookup(self, kind: str, stream_id: int | None) -> tuple[str, int | None] | None:
        if stream_id is None:
            return None
        packed = self.streams.get(kind, {}).get(stream_id)
        if packed is None:
            return None
        category_id, days = packed >> 12, packed & 0xFFF
        return self.categories.get((kind, category_id), ""), (days or None)

    def __bool__(self):
        return bool(self.categories or self.streams)


def to_int(value) -> int | None:
    """Xtream's numbers come as 1, "1", "1.0", "N/A", "", null or true: an int, or None."""
    if value is None or isinstance(value, bool):
        return int(value) if isinstance(value, bool) else None
    if isinstance(value, int):
        return value
    try:
        return int(float(str(value).strip()))
    except (TypeError, ValueError, OverflowError):
        return None


def iter_json_array(fh: IO[str], chunk: int = 1 << 16) -> Iterator:
    """The items of a JSON array read from a text stream one by one (``json.JSONDecoder.raw_decode`` on a
    sliding buffer): constant memory for a 200,000-item answer. Raises ValueError when it is no array."""
    decoder = json.JSONDecoder()
    buf = fh.read(chunk).lstrip()
    if not buf.startswith("["):
        raise ValueError("not a JSON array")
    pos, eof = 1, False
    while True:
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n,":
                pos += 1
            if pos < len(buf) or eof:
                break
            more = fh.read(chunk)
            buf, pos, eof = buf[pos:] + more, 0, not more
        if pos >= len(buf):
            raise ValueError("the JSON array is cut short")
        if buf[pos] == "]":
            return
        try:
            item, end = decoder.raw_decode(buf, pos)
        except json.JSONDecodeError:
            if eof:
                raise ValueError("malformed JSON") from None
            more = fh.read(chunk)
            buf, pos, eof = buf[pos:] + more, 0, not more
            continue
        if end == len(buf) and not eof:  # a number may go on in the next chunk
            more = fh.read(chunk)
            if more:
                buf, pos = buf[pos:] + more, 0
                continue
            eof = True
        yield item
        pos = end
        if pos > chunk:
            buf, pos = buf[pos:], 0


class XtreamClient:
    """One Xtream Codes account, through ``integrations``' GenericAPIClient in its ``xtream`` auth mode (the
    username and password go into the query of every request, masked in logs and errors)."""

    def __init__(self, api: GenericAPIClient, *, user_agent: str = ""):
        self.api, self.user_agent = api, user_agent
        if api.password:
            register_secret(api.password)

    @classmethod
    def for_account(cls, host: str, username: str, password: str, *, verify: bool = True) -> "XtreamClient":
        try:
            api = GenericAPIClient(host, username=username, password=password, auth_type="xtream", verify=verify,
                                   timeout=timeouts(), retries=0)
        except APIError as exc:
            raise ProviderError(str(exc), permanent=True) from None
        return cls(api)

    @classmethod
    def for_provider(cls, provider) -> "XtreamClient":
        service = provider.service
        try:
            api = GenericAPIClient.for_service(service, auth_type="xtream", timeout=timeouts(),
                                               verify=provider.verifies_ssl)
        except APIError as exc:
            raise ProviderError(str(exc), permanent=True) from None
        return cls(api, user_agent=provider.user_agent)

    @property
    def host(self) -> str:
        return self.api.base_url

    def _get(self, endpoint: str, params: dict | None = None):
        """The streamed answer of ``GET endpoint`` (credentials added by the auth mode); ProviderError when the
        panel cannot be reached, AuthRefused on 401 / 403."""
        try:
            response = self.api.request("GET", endpoint, params=params, raw=True, stream=True,
                                        headers=_headers(self.user_agent))
        except http.HTTPError as exc:
            raise ProviderError(str(exc), status=exc.status, permanent=exc.permanent) from None
        if response.status_code in (401, 403):
            response.close()
            raise AuthRefused()
        try:
            http.raise_for_status(response)
        except http.HTTPError as exc:
            raise ProviderError(str(exc), status=exc.status, permanent=exc.permanent) from None
        return response

    def _stream_to(self, endpoint: str, dest: IO[bytes], params: dict | None = None, on_chunk=None) -> int:
        response = self._get(endpoint, params)
        with response:
            return _save(response, dest, f"GET {http.redact_url(self.api.url_for(endpoint))}", on_chunk)

    def download_playlist(self, dest: IO[bytes], on_chunk=None) -> int:
        return self._stream_to("get.php", dest, {"type": "m3u_plus", "output": "ts"}, on_chunk)

    def account(self) -> dict:
        """player_api.php without an action: ``user_info`` (``auth`` 1 when the account is good) and
        ``server_info``. AuthRefused for wrong credentials, ProviderError when the panel cannot be reached or
        does not answer JSON."""
        where = f"GET {http.redact_url(self.api.url_for('player_api.php'))}"
        response = self._get("player_api.php")
        try:
            with response:
                body = http.read_capped(response, 1 << 20)
        except http.TooLarge:
            raise ProviderError(f"{where}: the answer is too large for an account", permanent=True) from None
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise ProviderError(f"{where}: {type(exc).__name__}") from None
        try:
            data = json.loads(body)
        except ValueError:
            raise ProviderError(f"{where}: the provider did not answer JSON (is this an Xtream Codes panel?)",
                                permanent=True) from None
        info = data.get("user_info") if isinstance(data, dict) else None
        if not isinstance(info, dict) or to_int(info.get("auth")) != 1:
            raise AuthRefused()
        return data

    def enrichment(self, workdir: Path) -> Enrichment:
        """Category names and per-stream categories from player_api.php. An answer that is HTML, "blocked",
        empty or malformed changes nothing: it is logged and noted, the playlist alone is the catalogue."""
        result = Enrichment()
        for kind, categories_action, streams_action in (
                ("live", "get_live_categories", "get_live_streams"),
                ("movie", "get_vod_categories", "get_vod_streams"),
                ("series", "get_series_categories", "get_series")):
            for action in (categories_action, streams_action):
                try:
                    self._read_action(action, kind, workdir, result)
                except ProviderError as exc:
                    result.notes.append(f"{action}: {exc}")
                    logger.warning("player_api.php %s of %s: %s (the playlist is used as it is)", action,
                                   http.redact_url(self.host), exc)
        return result

    def _read_action(self, action: str, kind: str, workdir: Path, result: Enrichment) -> None:
        path = workdir / f"{action}.json"
        try:
            with open(path, "wb") as fh:
                self._stream_to("player_api.php", fh, {"action": action})
            with open(path, "r", encoding="utf-8", errors="replace") as fh:
                head = fh.read(256).lstrip()
                if not head.startswith("["):
                    what = "empty" if not head else ("HTML" if head.startswith("<") else repr(head[:40]))
                    raise ProviderError(f"not a JSON list ({what})", permanent=True)
                fh.seek(0)
                if action.endswith("categories"):
                    for item in iter_json_array(fh):
                        if isinstance(item, dict):
                            cid = to_int(item.get("category_id"))
                            name = item.get("category_name")
                            if cid is not None and isinstance(name, str):
                                result.categories[(kind, cid)] = name.strip()
                    return
                if kind == "series":
                    # get_series lists series (series_id), while the playlist has their episodes (episode
                    # ids): nothing to join per entry; the series categories above give the group names
                    for _ in iter_json_array(fh):
                        pass
                    return
                streams = result.streams.setdefault(kind, {})
                id_field = "stream_id"
                for item in iter_json_array(fh):
                    if not isinstance(item, dict):
                        continue
                    sid = to_int(item.get(id_field))
                    if sid is None:
                        continue
                    cid = to_int(item.get("category_id"))
                    days = to_int(item.get("tv_archive_duration")) if to_int(item.get("tv_archive")) == 1 else 0
                    streams[sid] = (max(0, cid or 0) << 12) | max(0, min(days or 0, 0xFFF))
        except ValueError as exc:
            raise ProviderError(f"malformed JSON ({exc})", permanent=True) from None
        finally:
            path.unlink(missing_ok=True)
