"""The service proxy: one request to a service's API URL on behalf of an authenticated user.

Not an open proxy: the host is always the service's API URL; ``path`` must be a plain absolute path;
redirects that leave the service's API URL (another host, or a path outside its prefix) are not followed
(GenericAPIClient); only a short list of request headers is
forwarded (so hop-by-hop headers and the caller's own credentials never reach the service); the answer read
is capped; the service's stored credentials are added by the client and scrubbed from anything returned.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from urllib.parse import unquote, urlsplit

from django.conf import settings

from homelab import http

from .client import APIError, AuthError, GenericAPIClient, decode_text

FORWARDED_REQUEST_HEADERS = ("Content-Type", "Accept", "Accept-Language", "If-None-Match", "If-Modified-Since")
MAX_DECODE_ROUNDS = 4
NOT_MODIFIED = object()  # forward()'s answer to a conditional request the service answered 304


_clients: "OrderedDict[tuple, GenericAPIClient]" = OrderedDict()
_clients_lock = threading.Lock()
MAX_CLIENTS = 256


def client_for(service) -> GenericAPIClient:
    """A client per service row version, kept between proxy calls so its connections stay open (keep-alive).
    Any change to the row (``updated_at``) makes a new one."""
    key = (service.pk, service.updated_at, service.target_url)
    with _clients_lock:
        client = _clients.get(key)
        if client is not None:
            _clients.move_to_end(key)
            return client
    client = GenericAPIClient.for_service(service)
    with _clients_lock:
        for old in [k for k in _clients if k[0] == service.pk]:
            _clients.pop(old)
        _clients[key] = client
        while len(_clients) > MAX_CLIENTS:
            _clients.popitem(last=False)
    return client


class ProxyError(Exception):
    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.message, self.status = message, status


def _bad(candidate: str) -> str | None:
    if not candidate.startswith("/"):
        return "path must be an absolute path starting with /"
    if candidate.startswith("//"):
        return "path must not name a host"
    if "\\" in candidate:
        return "path must not contain backslashes"
    if "@" in candidate:
        return "path must not contain @"
    if any(ord(c) < 32 or ord(c) == 127 for c in candidate):
        return "path must not contain control characters"
    if "#" in candidate:
        return "path must not contain a fragment"
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return "path must not name a scheme or host"
    segments = parts.path.split("/")
    if ".." in segments or "." in segments:
        return "path must not contain . or .. segments"
    return None


def validate_path(path: str | None) -> str:
    """The path to send, or ProxyError(400). Checked as given and after each round of percent-decoding, so
    encoded slashes, dots and schemes are caught too."""
    if not path:
        raise ProxyError("path is required", 400)
    candidate = path
    for _ in range(MAX_DECODE_ROUNDS):
        reason = _bad(candidate)
        if reason:
            raise ProxyError(f"Invalid path: {reason}", 400)
        decoded = unquote(candidate)
        if decoded == candidate:
            return path
        candidate = decoded
    raise ProxyError("Invalid path: encoded too many times", 400)


def _decode(response, body: bytes):
    content_type = (response.headers.get("Content-Type") or "").lower()
    text = decode_text(content_type, body)
    if "json" in content_type or text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def forward(service, method: str, path: str, *, params: list[tuple[str, str]], body: bytes,
            headers: dict[str, str]):
    """Send the request; returns the decoded answer of a 2xx. Raises ProxyError (status for the caller)."""
    target = service.target_url
    if not target:
        raise ProxyError("Service has no API URL", 400)
    path = validate_path(path)
    sent_headers = {k: v for k, v in headers.items() if k in FORWARDED_REQUEST_HEADERS and v}
    try:
        client = client_for(service)
    except APIError as exc:
        raise ProxyError(str(exc), 400) from None
    data = body or None
    form = _as_form(client, sent_headers, body)
    if form is not None:  # a JSON object to a form-login service (qBittorrent): sent as the form it reads
        data = form
        sent_headers.pop("Content-Type", None)
    try:
        response = client.request(method, path, params=params or None, data=data, raw=True,
                                  headers=sent_headers, stream=True)
    except AuthError as exc:
        if exc.status is None and not exc.timeout:  # nothing was sent: the service lacks credentials
            raise ProxyError(client._scrub(str(exc)), 400) from None
        raise ProxyError(client._scrub(str(exc)), exc.status if exc.status and exc.status < 500 else 502) from None
    except APIError as exc:
        if exc.timeout:
            raise ProxyError("Upstream timed out", 504) from None
        if exc.status and 400 <= exc.status < 500:  # the service refused the stored credentials
            raise ProxyError(client._scrub(str(exc)), exc.status) from None
        raise ProxyError(f"Upstream unreachable: {client._scrub(str(exc))}{tls_hint(service, exc)}", 502) from None
    with response:
        status = response.status_code
        if status == 304:  # the caller's If-None-Match / If-Modified-Since matched
            return NOT_MODIFIED
        if 300 <= status < 400:
            raise ProxyError(f"Upstream redirected (HTTP {status}); redirects outside the service's API URL are not followed", 502)
        try:
            raw = http.read_capped(response, settings.SERVICE_PROXY_MAX_BYTES)
        except http.TooLarge:
            raise ProxyError(f"Upstream answer is over the {settings.SERVICE_PROXY_MAX_BYTES}-byte limit", 502) from None
        except Exception:
            raise ProxyError("Upstream answer could not be read", 502) from None
    data = _decode(response, raw)
    data = _scrub_data(client, data)
    if status >= 400:
        excerpt = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        excerpt = client._scrub(excerpt)[:200].strip()  # masked before it is cut: no half secret
        message = f"Upstream answered HTTP {status}" + (f": {excerpt}" if excerpt else "")
        raise ProxyError(message, status if status < 500 else 502)
    return data


def tls_hint(service, exc) -> str:
    """What to do about a certificate the service's verify SSL refused (self-signed is common in a homelab)."""
    if "TLS error" in str(exc) and getattr(service, "verify_ssl", True):
        return ("; the certificate was not accepted: for a self-signed certificate, turn off verify SSL for this "
                "service")
    return ""


def _as_form(client: GenericAPIClient, headers: dict, body: bytes) -> dict | None:
    """A flat JSON object sent to a cookie-mode service, as the form GenericAPIClient sends such services
    (``client.post(..., data={...})``); None to forward the body as it is."""
    if not client.mode.form_bodies or not body or "json" not in (headers.get("Content-Type") or "").lower():
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    scalar = (str, int, float, bool)
    if not isinstance(value, dict) or not all(
            isinstance(v, scalar) or (isinstance(v, list) and all(isinstance(i, scalar) for i in v))
            for v in value.values()):
        return None
    return {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in value.items()}


def _scrub_data(client: GenericAPIClient, data):
    """The answer with any stored secret masked (a service that echoes its key does not leak it). Strings are
    masked where they are, so a secret is found whatever JSON escaping it would get."""
    if not client._secrets:
        return data
    if isinstance(data, str):
        return _scrub_known(client, data)
    text = json.dumps(data, ensure_ascii=False)
    if not any(s in text or json.dumps(s, ensure_ascii=False)[1:-1] in text for s in client._secrets):
        return data  # the common case: one pass over the serialised answer, nothing to mask
    return _scrub_value(client, data)


def _scrub_value(client: GenericAPIClient, value):
    if isinstance(value, str):
        return _scrub_known(client, value)
    if isinstance(value, list):
        return [_scrub_value(client, v) for v in value]
    if isinstance(value, dict):
        return {(_scrub_known(client, k) if isinstance(k, str) else k): _scrub_value(client, v)
                for k, v in value.items()}
    return value


def _scrub_known(client, text: str) -> str:
    for secret in sorted(client._secrets, key=len, reverse=True):
        text = text.replace(secret, "****")
    return text
