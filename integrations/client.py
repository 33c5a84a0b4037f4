"""GenericAPIClient: one client for any REST API a homelab service offers (the API Integration Guide).

    client = GenericAPIClient("https://sonarr.local", api_key="...")
    status = client.get("/api/v3/system/status")

    client = GenericAPIClient(url, username=u, password=p, auth_type="jwt",
                              auth_endpoint="/api/accounts/token/", refresh_endpoint="/api/accounts/token/refresh/")

How requests are authenticated is one class per mode in ``integrations.auth`` (``auth_type``; ``None`` is the
``auto`` mode, which picks one from what is given): api_key, bearer, jwt, cookie, basic, jellyfin, emby, plex,
transmission, deluge, xtream, none. This module keeps what every mode shares:

- the transport: every request goes through ``homelab.http`` (timeouts, verify, retries on idempotent methods),
  redirects followed only inside the service's API URL (same host, under its path);
- the shared login: the entry a mode's login returns (token, cookie, session id) is kept in the Django cache
  (Redis in production) under a key made of the base URL, the username and the mode, encrypted with the
  project's Fernet keys, and a cache lock makes concurrent callers wait for one login instead of each logging in;
  expiry is read on ``homelab.clock``;
- the one re-login: an answer the mode calls "log in again" (a 401; 403 in cookie mode; Deluge's JSON-RPC error)
  makes the client log in again once and retry the request once.

Failures raise ``APIError``, a ``homelab.http.HTTPError`` whose message and body excerpt never carry a secret;
``permanent`` follows ``homelab.http.is_temporary``.
"""
from __future__ import annotations

import base64
import hashlib
import json as jsonlib
import logging
import threading
from urllib.parse import unquote, urljoin, urlsplit

import requests
from django.core.cache import cache

from homelab import crypto, http
from homelab.logging import mask, register_secret

from . import auth
from .auth import Outgoing
from .auth.tokens import fresh, jwt_claims, token_entry
from .cache_lock import CacheLock as _CacheLock
from .errors import APIError, AuthError

__all__ = ["APIError", "AUTH_TYPES", "AuthError", "GenericAPIClient", "decode_text", "jwt_claims"]

logger = logging.getLogger("integrations.client")

AUTH_TYPES = auth.names()  # the built-in modes (auth.names() also has any registered later)
MAX_REDIRECTS = 5
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
CACHE_PREFIX = "integrations:auth"


def decode_text(content_type: str, body: bytes) -> str:
    """A text answer: in its declared charset, else UTF-8 (what services send; requests would assume ISO-8859-1
    for text/* without a charset), else ISO-8859-1."""
    charset = ""
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"')
    if charset:
        try:
            return body.decode(charset, errors="replace")
        except LookupError:
            pass
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("latin-1")

class GenericAPIClient:
    """A client of one service API. Thread-safe; cheap to create (logins are shared through the cache)."""

    def __init__(self, base_url: str, username: str | None = None, password: str | None = None,
                 api_key: str | None = None, auth_endpoint: str | None = None, *,
                 auth_type: str | None = None, refresh_endpoint: str | None = None,
                 api_key_header: str | None = "X-Api-Key", api_key_query: str | None = None,
                 verify: bool = True, timeout=None, token_lifetime: float | None = None,
                 retries: int | None = None):
        if not base_url:
            raise APIError("No API URL is configured for this service", permanent=True)
        try:
            parts = urlsplit(base_url)
            parts.port  # noqa: B018 - raises ValueError when out of range
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise APIError(f"Not an http(s) URL: {http.redact_url(base_url)}", permanent=True)
        if auth_type is not None and auth_type not in auth.names():
            raise ValueError(f"auth_type must be one of {', '.join(auth.names())} or None")
        self.base_url = base_url.rstrip("/")
        self.username = username or None
        self.password = password or None
        self.api_key = api_key or None
        self.auth_endpoint = auth_endpoint or None
        self.refresh_endpoint = refresh_endpoint or None
        self.api_key_header = api_key_header or "X-Api-Key"
        self.api_key_query = api_key_query or None
        self.verify = verify
        self.timeout = timeout
        self.token_lifetime = token_lifetime
        self.mode = auth.mode_for(self, auth_type)
        self.auth_type = self.mode.name
        self._secrets: set[str] = set()
        # the Basic header made of the login is as secret as the password (a service may echo it)
        basic = base64.b64encode(f"{self.username or ''}:{self.password}".encode()).decode() if self.password else None
        for secret in (self.password, self.api_key, basic, *self.mode.secrets()):
            if secret:
                self._remember_secret(secret)
        self._origin = (parts.scheme, parts.hostname, parts.port)
        self._base_path = unquote(parts.path).rstrip("/")
        self._session = http.session(verify=verify, retries=retries)
        self._local_entry: dict | None = None   # last entry seen, to skip a cache read per request
        self._local_lock = threading.Lock()
        self.login_count = 0                     # logins this instance performed (tests, benchmarks)

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def for_service(cls, service, **overrides) -> "GenericAPIClient":
        """A client for an ``integrations.models.Service`` row: its API URL, credentials, key placement, verify
        and the auth type detected or set on it, with the built-in catalogue filling what the row leaves blank.
        A type that does not fit the credentials on the row (detected before they were added) gives way to the
        one its mode names (``AuthMode.substitute``)."""
        from integrations.catalogue import lookup

        entry = lookup(getattr(service, "service_type", "") or "") or {}
        auth_type = getattr(service, "api_auth_type", "") or entry.get("auth_type") or None
        if auth_type not in auth.names():
            auth_type = None
        if auth_type is not None:
            has_login = bool(getattr(service, "api_username", "") and getattr(service, "api_password", ""))
            instead = auth.mode_class(auth_type).substitute(has_key=bool(getattr(service, "api_key", "")),
                                                            has_login=has_login)
            if instead:
                auth_type = None if instead == "auto" else instead
        uses_refresh = auth.mode_class(auth_type or "auto").uses_refresh_endpoint
        kwargs = dict(
            username=getattr(service, "api_username", "") or None,
            password=getattr(service, "api_password", "") or None,
            api_key=getattr(service, "api_key", "") or None,
            auth_endpoint=getattr(service, "api_auth_endpoint", "") or entry.get("login_endpoint") or None,
            auth_type=auth_type,
            refresh_endpoint=entry.get("refresh_endpoint") if uses_refresh else None,
            api_key_header=getattr(service, "api_key_header", "") or entry.get("api_key_header") or "X-Api-Key",
            api_key_query=getattr(service, "api_key_query", "") or entry.get("api_key_query") or None,
            verify=getattr(service, "verify_ssl", True),
        )
        kwargs.update(overrides)
        url = getattr(service, "api_url", "") or getattr(service, "url", "")
        return cls(url, **kwargs)

    def __repr__(self):
        return f"<GenericAPIClient {http.redact_url(self.base_url)} auth={self.auth_type}>"

    # --- public API ----------------------------------------------------------------------------

    def get(self, endpoint: str, **kwargs):
        return self.request("GET", endpoint, **kwargs)

    def post(self, endpoint: str, **kwargs):
        return self.request("POST", endpoint, **kwargs)

    def put(self, endpoint: str, **kwargs):
        return self.request("PUT", endpoint, **kwargs)

    def patch(self, endpoint: str, **kwargs):
        return self.request("PATCH", endpoint, **kwargs)

    def delete(self, endpoint: str, **kwargs):
        return self.request("DELETE", endpoint, **kwargs)

    def request(self, method: str, endpoint: str, data=None, params=None, json=None, raw: bool = False,
                headers: dict | None = None, *, form: dict | None = None, stream: bool = False,
                timeout=None):
        """Send one request to ``base_url + endpoint``.

        Body: ``json=`` is sent as JSON; ``form=`` as a form; ``data=`` as JSON when it is a dict or list (as a form
        in cookie mode, whose services — qBittorrent — take forms), as-is when it is str or bytes.
        Returns the parsed JSON, or the text for other answers; with ``raw=True`` the ``requests.Response``
        whatever its status (``stream=True`` leaves the body unread). Raises APIError otherwise."""
        method = method.upper()
        url = self.url_for(endpoint)
        retried_auth = retried_session = False
        while True:
            entry = self._credentials()
            mode = self.mode.for_entry(entry)
            response = self._send(method, url, entry, params=params, headers=headers, stream=stream,
                                  timeout=timeout, mode=mode, **mode.body(data, json, form))
            if not retried_session and mode.resend_after(response):
                retried_session = True
                response.close()
                continue
            if not retried_auth and self.mode.logs_in and mode.wants_relogin(response, stream=stream):
                retried_auth = True
                logger.info("%s %s answered %s: logging in again", method, http.redact_url(url),
                            response.status_code)
                response.close()
                self._invalidate(entry)
                continue
            break
        if raw:
            return response
        if response.status_code >= 400:
            raise self._status_error(response)
        if response.status_code in REDIRECT_STATUSES:
            response.close()
            raise APIError(f"{method} {http.redact_url(url)}: redirected (HTTP {response.status_code}) outside the "
                           "service's API URL; not followed", status=response.status_code, permanent=True)
        return self.parse(response)

    def authenticate(self) -> None:
        """Log in now (or reuse a cached login); raises AuthError when the service refuses."""
        self._credentials()

    def logout(self) -> None:
        """Forget the cached login for this URL and user."""
        cache.delete(self._cache_key())
        self._local_entry = None

    def url_for(self, endpoint: str) -> str:
        """base_url + endpoint; endpoints are paths on this service, never other hosts."""
        endpoint = endpoint or "/"
        parts = urlsplit(endpoint)
        if parts.scheme or parts.netloc or endpoint.startswith("//") or "\\" in endpoint:
            raise APIError("Endpoint must be a path on the service, not a URL", permanent=True)
        return self.base_url + "/" + endpoint.lstrip("/")

    @staticmethod
    def parse(response: requests.Response):
        """JSON answers parsed; others returned as text ("" for an empty body)."""
        content_type = response.headers.get("Content-Type", "")
        text = decode_text(content_type, response.content)
        if "json" in content_type or text[:1] in ("{", "["):
            try:
                return response.json()
            except ValueError:
                if "json" in content_type:
                    raise APIError(f"{response.request.method} {http.redact_url(response.url)}: invalid JSON",
                                   status=response.status_code, permanent=True) from None
        return text

    # --- sending -------------------------------------------------------------------------------

    def _send(self, method, url, entry, *, params=None, headers=None, stream=False, timeout=None, mode=None,
              **kwargs):
        """One request with the mode's credentials (``mode``: the one for this entry), following redirects only
        inside the service's API URL (same host, under its path)."""
        out = Outgoing()
        (mode or self.mode).apply(out, entry)
        hdrs, prm = out.headers, out.params
        if headers:
            hdrs.update(headers)
        if params:  # a dict, or a list of pairs (repeated names, as the proxy forwards them)
            prm = list(prm.items()) + list(params.items() if isinstance(params, dict) else params)
        timeout = timeout or self.timeout
        for _ in range(MAX_REDIRECTS + 1):
            try:
                response = http.request(self._session, method, url, timeout=timeout, params=prm or None,
                                        headers=hdrs, auth=out.auth, cookies=out.cookies, allow_redirects=False,
                                        stream=stream, **kwargs)
            except APIError:
                raise
            except http.HTTPError as exc:
                raise APIError(self._scrub(exc.message), status=exc.status, permanent=exc.permanent,
                               timeout=exc.timeout) from None
            if response.status_code not in REDIRECT_STATUSES or "Location" not in response.headers:
                return response
            target = urljoin(response.url, response.headers["Location"])
            try:
                t = urlsplit(target)
                where = (t.scheme, t.hostname, t.port)
            except ValueError:  # a Location that is not a URL: not followed
                return response
            if (where != self._origin and not self._upgrade(t)) or not self._inside_base_path(t.path):
                return response  # not followed: the caller sees the 3xx
            response.close()
            url, prm = target, None
            if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                method, kwargs = "GET", {}
        return response

    def _inside_base_path(self, path: str) -> bool:
        """Whether a redirect's path stays under the API URL's path (``/sonarr`` -> ``/sonarr/...``, not
        ``/other`` nor ``/sonarrx``): another application on the same host must not get this service's key.
        Checked after percent-decoding, and a dot segment is refused outright (the server would resolve it)."""
        for _ in range(4):
            segments = path.split("/")
            if "." in segments or ".." in segments or "\\" in path:
                return False
            decoded = unquote(path)
            if decoded == path:
                break
            path = decoded
        else:
            return False
        if not self._base_path:
            return True
        return path == self._base_path or path.startswith(self._base_path + "/")

    def _upgrade(self, target) -> bool:
        """http://host[:80] -> https://host[:443]: the same service behind a redirect-to-https, followed."""
        scheme, host, port = self._origin
        return (scheme == "http" and port in (None, 80) and target.scheme == "https" and target.hostname == host
                and target.port in (None, 443))

    # --- the shared login ----------------------------------------------------------------------

    def _cache_key(self) -> str:
        ident = "\x00".join((self.base_url, self.username or "", self.auth_type, self.auth_endpoint or ""))
        return f"{CACHE_PREFIX}:{hashlib.sha256(ident.encode()).hexdigest()[:32]}"

    def _read_entry(self) -> dict | None:
        stored = cache.get(self._cache_key())
        if not stored:
            return None
        try:
            entry = jsonlib.loads(crypto.decrypt(stored, where="a cached login"))
        except Exception:
            return None
        for key in ("access", "refresh", "session_id"):
            if entry.get(key):
                self._remember_secret(entry[key])
        for value in (entry.get("cookies") or {}).values():
            self._remember_secret(value)
        return entry

    def _write_entry(self, entry: dict, ttl: float) -> None:
        cache.set(self._cache_key(), crypto.encrypt(jsonlib.dumps(entry)), timeout=max(1, int(ttl)))
        self._local_entry = entry

    def _credentials(self) -> dict | None:
        """The login entry to use now: cached, refreshed or new. None for modes without a login."""
        if not self.mode.logs_in:
            return self.mode.session_entry()
        entry = self._read_entry()
        if fresh(entry):
            self._local_entry = entry
            return entry
        with self._local_lock, _CacheLock(self._cache_key() + ":lock"):
            entry = self._read_entry()  # another caller may have logged in while we waited
            if fresh(entry):
                self._local_entry = entry
                return entry
            refreshed = self.mode.refresh(entry) if entry else None
            if refreshed is None:
                return self._login()
            self._write_entry(*refreshed)
            return refreshed[0]

    def _login(self) -> dict:
        """Log in with the mode; stores and returns the entry. Raises AuthError."""
        self.mode.check_login()
        self.login_count += 1
        entry, ttl = self.mode.login()
        self._write_entry(entry, ttl)
        return entry

    def _invalidate(self, used: dict | None) -> None:
        """Drop the cached login after a 401, unless another caller already replaced it."""
        current = self._read_entry()
        if current is None:
            return
        if used is None or current.get("access") == used.get("access") and \
                current.get("cookies") == used.get("cookies"):
            cache.delete(self._cache_key())
        self._local_entry = None

    def _token_entry(self, mode: str, access: str, refresh: str | None = None) -> tuple[dict, float]:
        """The cache entry for a token (``integrations.auth.tokens.token_entry``), its values kept secret."""
        for secret in (access, refresh):
            if secret:
                self._remember_secret(secret)
        return token_entry(mode, access, refresh, lifetime=self.token_lifetime)

    def _remember_secret(self, value: str) -> None:
        """A value never to show: masked in this client's errors and answers, and in every log."""
        register_secret(value)
        self._secrets.add(value)

    # --- errors --------------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret:
                text = text.replace(secret, "****")
        return mask(text)

    def _status_error(self, response: requests.Response, what: str | None = None) -> APIError:
        status = response.status_code
        try:
            body = response.text[: http.BODY_EXCERPT * 2]
        except Exception:
            body = ""
        where = f"{response.request.method} {http.redact_url(response.url)}"
        message = f"{what}: {where}: HTTP {status}" if what else f"{where}: HTTP {status}"
        cls = AuthError if status in (401, 403) else APIError
        return cls(self._scrub(message), status=status, body=self._scrub(body), permanent=not http.is_temporary(status))
