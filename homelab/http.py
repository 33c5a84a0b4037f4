"""The one seam for outbound HTTP (DESIGN.md, "Outbound HTTP").

Every call to another system goes through ``session()`` / ``request()``: explicit connect and read timeouts,
``verify`` per Service, bounded retries on idempotent methods, streamed downloads with a size cap, and one
error type, ``HTTPError``, that says whether a failure is permanent. Messages never carry credentials.
"""
from __future__ import annotations

import logging
from typing import IO, Iterator
import re
from urllib.parse import unquote, unquote_plus, urlsplit, urlunsplit

import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from homelab.logging import mask

logger = logging.getLogger("homelab.http")

USER_AGENT = "homelab/0.1"
MASK = "****"
BODY_EXCERPT = 300


class HTTPError(Exception):
    """A failed outbound call. ``permanent`` is False for what is worth retrying (timeouts, refused
    connections, 5xx, 429), True for what is not (4xx, malformed answers, size caps)."""

    def __init__(self, message: str, *, status: int | None = None, permanent: bool = False, body: str = "",
                 timeout: bool = False):
        super().__init__(message)
        self.message = message
        self.status = status
        self.permanent = permanent
        self.body = body[:BODY_EXCERPT]
        self.timeout = timeout

    def __str__(self):
        return self.message


def is_temporary(status: int | None) -> bool:
    """The one rule for "is this failure worth retrying": no answer at all (refused, reset, timed out:
    ``status`` None), a 5xx or a 429. Everything else (4xx, malformed answers, size caps) is permanent."""
    return status is None or status >= 500 or status == 429


class TooLarge(HTTPError):
    pass


def redact_url(url: str) -> str:
    """The URL without userinfo or query string (which may carry keys), for messages and logs; known secrets
    and credentials in the path (Xtream's ``/live/<username>/<password>/``) masked too."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a bad IPv6 literal, or a port out of range
        return "<invalid url>"
    netloc = parts.hostname or ""
    if port:
        netloc = f"{netloc}:{port}"
    return mask(urlunsplit((parts.scheme, netloc, parts.path, "", "")))


# query parameters whose values are credentials (Xtream's username/password, API keys, tokens, signatures)
SECRET_QUERY_NAMES = re.compile(
    r"(?i)^(user(name)?|pass(word|wd)?|pwd|token|access_token|auth|key|api[_-]?key|apikey|secret|sig(nature)?"
    r"|x-plex-token|session(id)?)$")


def mask_url(url: str) -> str:
    """The URL as a non-staff user may see it: userinfo and the values of query parameters that look like
    credentials become ``****``; everything else stays as written."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "<invalid url>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = "&".join(
        f"{name}={MASK}" if sep and SECRET_QUERY_NAMES.match(unquote_plus(name)) else f"{name}{sep}{value}"
        for name, sep, value in (pair.partition("=") for pair in parts.query.split("&"))
    ) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def url_secrets(url: str) -> list[str]:
    """The credential parts of a URL (user, password, secret query values), for the log filter to mask."""
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return []
    found = [x for v in (parts.username, parts.password) if v for x in {v, unquote(v)}]
    for name, sep, value in (pair.partition("=") for pair in parts.query.split("&") if pair):
        if sep and value and SECRET_QUERY_NAMES.match(unquote_plus(name)):
            found += list({value, unquote_plus(value)})
    return found


def default_timeout() -> tuple[float, float]:
    return (settings.HTTP_CONNECT_TIMEOUT, settings.HTTP_READ_TIMEOUT)


def session(*, verify: bool = True, retries: int | None = None) -> requests.Session:
    """A Session with retries on idempotent methods only (connect errors, 502/503/504)."""
    s = requests.Session()
    retries = settings.HTTP_MAX_RETRIES if retries is None else retries
    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=0.2,
        status_forcelist=(502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}),
        raise_on_status=False,
        respect_retry_after_header=True,
    )
    adapter = HTTPAdapter(max_retries=retry, pool_connections=10, pool_maxsize=20)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    s.verify = verify
    s.headers["User-Agent"] = USER_AGENT
    return s


def request(sess: requests.Session, method: str, url: str, *, timeout=None, **kwargs) -> requests.Response:
    """Send one request; transport failures become HTTPError. The response is returned whatever its status."""
    timeout = timeout or default_timeout()
    where = f"{method.upper()} {redact_url(url)}"
    # per request: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's verify=False
    kwargs.setdefault("verify", sess.verify)
    try:
        return sess.request(method, url, timeout=timeout, **kwargs)
    except requests.exceptions.SSLError as exc:
        raise HTTPError(f"{where}: TLS error ({type(exc).__name__})", permanent=True) from None
    except (requests.exceptions.ConnectTimeout, requests.exceptions.ReadTimeout) as exc:
        raise HTTPError(f"{where}: timed out", timeout=True) from None
    except requests.exceptions.ConnectionError as exc:
        # urllib3 reports a read timeout whose retries ran out as MaxRetryError(ReadTimeoutError), which
        # requests raises as ConnectionError: it is still a timeout
        cause = exc.args[0] if exc.args else None
        if isinstance(getattr(cause, "reason", None), urllib3.exceptions.ReadTimeoutError):
            raise HTTPError(f"{where}: timed out", timeout=True) from None
        reason = "connection refused" if "refused" in str(exc).lower() else "connection failed"
        raise HTTPError(f"{where}: {reason}") from None
    except requests.exceptions.InvalidURL:
        raise HTTPError(f"{where}: invalid URL", permanent=True) from None
    except requests.exceptions.RequestException as exc:
        raise HTTPError(f"{where}: {type(exc).__name__}") from None


def raise_for_status(response: requests.Response) -> requests.Response:
    if response.status_code >= 400:
        body = ""
        try:
            body = response.text[:BODY_EXCERPT]
        except Exception:
            pass
        permanent = not is_temporary(response.status_code)
        raise HTTPError(
            f"{response.request.method} {redact_url(response.url)}: HTTP {response.status_code}",
            status=response.status_code,
            permanent=permanent,
            body=body,
        )
    return response


def read_capped(response: requests.Response, max_bytes: int, chunk_size: int = 65536) -> bytes:
    """The whole body, refusing more than max_bytes (checked as it streams, not after)."""
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        response.close()
        raise TooLarge(f"{redact_url(response.url)}: body of {declared} bytes is over the {max_bytes}-byte cap",
                       permanent=True)
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size):
        size += len(chunk)
        if size > max_bytes:
            response.close()
            raise TooLarge(f"{redact_url(response.url)}: body is over the {max_bytes}-byte cap", permanent=True)
        chunks.append(chunk)
    return b"".join(chunks)


def iter_capped(response: requests.Response, max_bytes: int, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    size = 0
    for chunk in response.iter_content(chunk_size):
        size += len(chunk)
        if size > max_bytes:
            response.close()
            raise TooLarge(f"{redact_url(response.url)}: body is over the {max_bytes}-byte cap", permanent=True)
        yield chunk


def download(url: str, dest: IO[bytes], *, max_bytes: int, verify: bool = True, timeout=None,
             headers: dict | None = None) -> int:
    """Stream url into the open file dest; returns the byte count. Raises HTTPError (TooLarge past the cap)."""
    with session(verify=verify) as sess:
        response = request(sess, "GET", url, timeout=timeout, stream=True, headers=headers or {})
        with response:
            raise_for_status(response)
            written = 0
            for chunk in iter_capped(response, max_bytes):
                dest.write(chunk)
                written += len(chunk)
    logger.info("Downloaded %s (%d bytes)", redact_url(url), written)
    return written
