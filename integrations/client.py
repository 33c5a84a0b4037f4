"""GenericAPIClient: one client for any REST API a homelab service offers (the API Integration Guide).

    client = GenericAPIClient("https://sonarr.local", api_key="...")
    status = client.get("/api/v3/system/status")

    client = GenericAPIClient(url, username=u, password=p, auth_type="jwt",
                              auth_endpoint="/api/accounts/token/", refresh_endpoint="/api/accounts/token/refresh/")

Auth modes (``auth_type``; ``None`` picks one from what is given):

``api_key``       the key in a header (``api_key_header``, default ``X-Api-Key``) or a query parameter (``api_key_query``)
``bearer``        username/password POSTed to a login endpoint; the token in the answer goes out as ``Authorization: Bearer``
``jwt``           like bearer, plus a refresh token: refreshed about a minute before expiry, full login when refresh fails
``cookie``        form login (qBittorrent's ``/api/v2/auth/login``); the session cookie is sent back
``basic``         HTTP Basic on every request
``jellyfin``      Jellyfin/Emby: ``X-Emby-Token`` / ``Authorization: MediaBrowser``; a key, or a login at ``/Users/AuthenticateByName``
``plex``          ``X-Plex-Token``
``transmission``  Basic when a username is given, plus the ``X-Transmission-Session-Id`` handshake (409)
``deluge``        Deluge's JSON-RPC: ``auth.login`` with the password at ``/json``, then the session cookie; a
                  JSON-RPC "Not authenticated" error (code 1, sent with HTTP 200) logs in again once
``none``          nothing
auto (None)       api_key when a key is given, jwt when a refresh endpoint is, otherwise with username and password a login
                  at ``auth_endpoint`` or, when none is configured, at ``/api/auth``, ``/api/login``, ``/auth/login``, ``/login``
                  (JSON, then form), recognising a token in the body or a session cookie.

Logins are shared across threads and processes: the token (or cookie, or session id) is kept in the Django cache
(Redis in production) under a key made of the base URL, the username and the mode, encrypted with the project's
Fernet keys, and a cache lock makes concurrent callers wait for one login instead of each logging in. A 401 (and a
403 in cookie mode) makes the client log in again once and retry the request once.

Every request goes through ``homelab.http`` (timeouts, verify, retries on idempotent methods). Failures raise
``APIError``, a ``homelab.http.HTTPError`` whose message and body excerpt never carry a secret.
"""
from __future__ import annotations

import base64
import hashlib
import json as jsonlib
import logging
import threading
import time
import uuid
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import requests
from django.core.cache import cache

from homelab import crypto, http
from homelab.logging import mask, register_secret

logger = logging.getLogger("integrations.client")

AUTH_TYPES = ("api_key", "bearer", "jwt", "cookie", "basic", "jellyfin", "plex", "transmission", "deluge", "none")
DELUGE_NOT_AUTHENTICATED = 1  # Deluge's JSON-RPC error code
LOGIN_ENDPOINTS = ("/api/auth", "/api/login", "/auth/login", "/login")
QBITTORRENT_LOGIN = "/api/v2/auth/login"  # tried last by the auto mode (the guide's qBittorrent example)
LOGIN_REFUSED_TEXTS = ("fails.", "fail", "failed")  # a 200 whose body refuses the login (qBittorrent)
TOKEN_KEYS = ("access", "token", "access_token", "accessToken", "jwt", "AccessToken", "id_token", "sid",
              "session_token", "sessionToken", "auth_token", "authToken", "key", "api_key")
REFRESH_KEYS = ("refresh", "refresh_token", "refreshToken")
DEFAULT_JWT_LIFETIME = 300.0      # seconds, when neither the token's exp claim nor token_lifetime says
REFRESH_MARGIN = 60.0             # refresh this long before expiry (at most half the token's life)
SESSION_TTL = 24 * 3600           # how long a login with no known expiry is kept in the cache
LOCK_TIMEOUT = 60                 # a lock holder that died frees the lock after this long
MAX_REDIRECTS = 5
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
CACHE_PREFIX = "integrations:auth"
MEDIABROWSER_CLIENT = 'MediaBrowser Client="homelab", Device="homelab", DeviceId="homelab", Version="0.1"'


class APIError(http.HTTPError):
    """A failed call to a service API: transport failure, refused login or non-2xx answer.

    ``status`` is the HTTP status (None for transport failures), ``body`` an excerpt of the answer with secrets
    masked, ``permanent`` False for what is worth retrying (timeouts, refused connections, 5xx, 429)."""

    def __init__(self, message: str, status: int | None = None, body: str = "", permanent: bool = False, *,
                 timeout: bool = False):
        super().__init__(message, status=status, body=body or "", permanent=permanent, timeout=timeout)


class AuthError(APIError):
    """The service refused the credentials (or no way to log in was found)."""


def jwt_claims(token: str) -> dict:
    """The payload of a JWT, unverified (only to read ``exp``); {} for anything that is not one."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = jsonlib.loads(base64.urlsafe_b64decode(payload.encode()))
        return claims if isinstance(claims, dict) else {}
    except Exception:
        return {}


def _find_key(body: Any, keys: tuple[str, ...]) -> str | None:
    """A string value under one of keys, at the top level or one level down (``{"data": {...}}``)."""
    if not isinstance(body, dict):
        return None
    for key in keys:
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    for value in body.values():
        if isinstance(value, dict):
            found = _find_key(value, keys)
            if found:
                return found
    return None


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


class _CacheLock:
    """A lock in the Django cache: Redis's own lock (token-checked release) when the cache is Redis,
    else ``cache.add`` with a compare-before-delete release."""

    def __init__(self, name: str, timeout: int = LOCK_TIMEOUT, wait: float = LOCK_TIMEOUT):
        self.name, self.timeout, self.wait = name, timeout, wait
        self._redis_lock = None
        self._token = uuid.uuid4().hex

    def __enter__(self):
        client = None
        try:
            key = cache.make_and_validate_key(self.name)
            client = cache._cache.get_client(key, write=True)  # RedisCache
        except AttributeError:
            client = None
        if client is not None:
            self._redis_lock = client.lock(key, timeout=self.timeout, blocking_timeout=self.wait)
            if not self._redis_lock.acquire():
                raise APIError("Timed out waiting for another login to the same service")
            return self
        deadline = time.monotonic() + self.wait
        while not cache.add(self.name, self._token, self.timeout):
            if time.monotonic() > deadline:
                raise APIError("Timed out waiting for another login to the same service")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        if self._redis_lock is not None:
            try:
                self._redis_lock.release()
            except Exception:  # expired meanwhile: someone else may hold it now, leave theirs alone
                pass
        elif cache.get(self.name) == self._token:
            cache.delete(self.name)


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
        if auth_type is not None and auth_type not in AUTH_TYPES:
            raise ValueError(f"auth_type must be one of {', '.join(AUTH_TYPES)} or None")
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
        self.auth_type = auth_type or self._auto_type()
        # the Basic header made of the login is as secret as the password (a service may echo it)
        basic = base64.b64encode(f"{self.username or ''}:{self.password}".encode()).decode() if self.password else None
        for secret in (self.password, self.api_key, basic):
            if secret:
                register_secret(secret)
        self._secrets = {s for s in (self.password, self.api_key, basic) if s}
        self._origin = (parts.scheme, parts.hostname, parts.port)
        self._base_path = unquote(urlsplit(self.base_url).path).rstrip("/")
        self._session = http.session(verify=verify, retries=retries)
        self._local_entry: dict | None = None   # last entry seen, to skip a cache read per request
        self._local_lock = threading.Lock()
        self.login_count = 0                     # logins this instance performed (tests, benchmarks)

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def for_service(cls, service, **overrides) -> "GenericAPIClient":
        """A client for an ``integrations.models.Service`` row: its API URL, credentials, key placement, verify
        and the auth type detected or set on it, with the built-in catalogue filling what the row leaves blank."""
        entry = {}
        try:
            from integrations.catalogue import lookup

            entry = lookup(getattr(service, "service_type", "") or "") or {}
        except ImportError:  # pragma: no cover - catalogue not installed
            entry = {}
        auth_type = getattr(service, "api_auth_type", "") or entry.get("auth_type") or None
        if auth_type not in AUTH_TYPES:
            auth_type = None
        has_login = bool(getattr(service, "api_username", "") and getattr(service, "api_password", ""))
        has_key = bool(getattr(service, "api_key", ""))
        if auth_type == "none" and (has_key or has_login):
            auth_type = None  # detected without credentials; now that there are some, use them
        if auth_type == "api_key" and not has_key and has_login:
            auth_type = None  # the catalogue expects a key, the user gave a login: let the client find out
        if auth_type in ("bearer", "jwt", "cookie", "basic") and not has_login and has_key:
            auth_type = "api_key"
        kwargs = dict(
            username=getattr(service, "api_username", "") or None,
            password=getattr(service, "api_password", "") or None,
            api_key=getattr(service, "api_key", "") or None,
            auth_endpoint=getattr(service, "api_auth_endpoint", "") or entry.get("login_endpoint") or None,
            auth_type=auth_type,
            refresh_endpoint=entry.get("refresh_endpoint") if auth_type in (None, "jwt") else None,
            api_key_header=getattr(service, "api_key_header", "") or entry.get("api_key_header") or "X-Api-Key",
            api_key_query=getattr(service, "api_key_query", "") or entry.get("api_key_query") or None,
            verify=getattr(service, "verify_ssl", True),
        )
        kwargs.update(overrides)
        url = getattr(service, "api_url", "") or getattr(service, "url", "")
        return cls(url, **kwargs)

    def _auto_type(self) -> str:
        if self.api_key:
            return "api_key"
        if self.username and self.password:
            return "jwt" if self.refresh_endpoint else "bearer"
        return "none"

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
            mode = self._mode(entry)
            body_kwargs = self._body(data, json, form, mode)
            response = self._send(method, url, entry, params=params, headers=headers, stream=stream,
                                  timeout=timeout, **body_kwargs)
            if (self.auth_type == "transmission" and response.status_code == 409 and not retried_session
                    and response.headers.get("X-Transmission-Session-Id")):
                retried_session = True
                self._store_session_id(response.headers["X-Transmission-Session-Id"])
                response.close()
                continue
            if (response.status_code in self._reauth_statuses(mode) or self._deluge_refused(response, stream)) \
                    and not retried_auth and self._logs_in():
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
                           "service's API URL; "
                           "not followed", status=response.status_code, permanent=True)
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

    def _mode(self, entry: dict | None) -> str:
        """The mode requests go out in: the auto mode's login may have turned out a session cookie."""
        if self.auth_type == "bearer" and entry and entry.get("mode") == "cookie":
            return "cookie"
        return self.auth_type

    def _body(self, data, json, form, mode: str | None = None) -> dict:
        if json is not None:
            return {"json": json}
        if form is not None:
            return {"data": form}
        if data is None:
            return {}
        if isinstance(data, (dict, list)):
            if (mode or self.auth_type) == "cookie" and isinstance(data, dict):
                return {"data": data}
            return {"json": data}
        return {"data": data}

    def _send(self, method, url, entry, *, params=None, headers=None, stream=False, timeout=None, **kwargs):
        """One request with this mode's credentials, following redirects only on the same host."""
        hdrs, prm, auth, cookies = self._apply(entry)
        if headers:
            hdrs.update(headers)
        if params:  # a dict, or a list of pairs (repeated names, as the proxy forwards them)
            prm = list(prm.items()) + list(params.items() if isinstance(params, dict) else params)
        timeout = timeout or self.timeout
        for _ in range(MAX_REDIRECTS + 1):
            try:
                response = http.request(self._session, method, url, timeout=timeout, params=prm or None,
                                        headers=hdrs, auth=auth, cookies=cookies, allow_redirects=False,
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

    def _apply(self, entry: dict | None):
        """(headers, params, auth, cookies) for the mode and the cached login entry."""
        headers: dict = {"Accept": "application/json, */*;q=0.5"}
        params: dict = {}
        auth = None
        cookies = None
        mode = (entry or {}).get("mode") or self.auth_type
        if mode == "api_key":
            if self.api_key_query:
                params[self.api_key_query] = self.api_key
            else:
                headers[self.api_key_header] = self.api_key
        elif mode in ("bearer", "jwt"):
            if entry and entry.get("access"):
                headers["Authorization"] = f"Bearer {entry['access']}"
        elif mode == "cookie":
            if entry and entry.get("cookies"):
                cookies = dict(entry["cookies"])
        elif mode == "basic":
            auth = (self.username or "", self.password or "")
        elif mode == "jellyfin":
            token = (entry or {}).get("access") or self.api_key
            if token:
                headers["X-Emby-Token"] = token
                headers["Authorization"] = f'{MEDIABROWSER_CLIENT}, Token="{token}"'
        elif mode == "plex":
            if self.api_key:
                headers["X-Plex-Token"] = self.api_key
        elif mode == "transmission":
            if self.username:
                auth = (self.username, self.password or "")
            if entry and entry.get("session_id"):
                headers["X-Transmission-Session-Id"] = entry["session_id"]
        return headers, params, auth, cookies

    def _deluge_refused(self, response: requests.Response, stream: bool) -> bool:
        """Deluge answers an expired session with HTTP 200 and a JSON-RPC error of code 1."""
        if self.auth_type != "deluge" or stream or response.status_code != 200:
            return False
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            return False
        return isinstance(error, dict) and error.get("code") == DELUGE_NOT_AUTHENTICATED

    def _reauth_statuses(self, mode: str | None = None) -> tuple[int, ...]:
        return (401, 403) if (mode or self.auth_type) == "cookie" else (401,)

    def _logs_in(self) -> bool:
        """Whether this mode holds a login that a 401 may have outdated."""
        if self.auth_type in ("bearer", "jwt", "cookie"):
            return True
        if self.auth_type == "deluge":
            return bool(self.password)
        return self.auth_type == "jellyfin" and not self.api_key and bool(self.username)

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
                register_secret(entry[key])
                self._secrets.add(entry[key])
        for value in (entry.get("cookies") or {}).values():
            register_secret(value)
            self._secrets.add(value)
        return entry

    def _write_entry(self, entry: dict, ttl: float) -> None:
        cache.set(self._cache_key(), crypto.encrypt(jsonlib.dumps(entry)), timeout=max(1, int(ttl)))
        self._local_entry = entry

    @staticmethod
    def _fresh(entry: dict | None) -> bool:
        if not entry:
            return False
        refresh_at = entry.get("refresh_at")
        return refresh_at is None or time.time() < refresh_at

    def _credentials(self) -> dict | None:
        """The login entry to use now: cached, refreshed or new. None for modes without a login."""
        if self.auth_type == "transmission":
            return self._local_entry or self._read_entry()
        if not self._logs_in():
            return None
        entry = self._read_entry()
        if self._fresh(entry):
            self._local_entry = entry
            return entry
        with self._local_lock, _CacheLock(self._cache_key() + ":lock"):
            entry = self._read_entry()  # another caller may have logged in while we waited
            if self._fresh(entry):
                self._local_entry = entry
                return entry
            new = None
            if entry and entry.get("refresh") and self.refresh_endpoint:
                new = self._refresh(entry)
            if new is None:
                new = self._login()
            return new

    def _invalidate(self, used: dict | None) -> None:
        """Drop the cached login after a 401, unless another caller already replaced it."""
        current = self._read_entry()
        if current is None:
            return
        if used is None or current.get("access") == used.get("access") and \
                current.get("cookies") == used.get("cookies"):
            cache.delete(self._cache_key())
        self._local_entry = None

    def _store_session_id(self, session_id: str) -> None:
        register_secret(session_id)
        self._secrets.add(session_id)
        self._write_entry({"mode": "transmission", "session_id": session_id}, SESSION_TTL)

    def _token_entry(self, mode: str, access: str, refresh: str | None = None) -> tuple[dict, float]:
        """The cache entry for a token, with the time to refresh it and how long to keep it."""
        now = time.time()
        exp = jwt_claims(access).get("exp")
        if isinstance(exp, (int, float)) and exp > now:  # an exp already past means clock skew: not trusted
            expires_at = float(exp)
        elif self.token_lifetime:
            expires_at = now + float(self.token_lifetime)
        elif mode == "jwt":
            expires_at = now + DEFAULT_JWT_LIFETIME
        else:
            expires_at = None
        entry = {"mode": mode, "access": access}
        ttl = SESSION_TTL
        if expires_at is not None:
            life = max(expires_at - now, 0.0)
            entry["refresh_at"] = expires_at - min(REFRESH_MARGIN, life / 2)
            ttl = life
        if refresh:
            entry["refresh"] = refresh
            refresh_exp = jwt_claims(refresh).get("exp")
            ttl = max(ttl, (float(refresh_exp) - now) if isinstance(refresh_exp, (int, float)) else SESSION_TTL)
        for secret in (access, refresh):
            if secret:
                register_secret(secret)
                self._secrets.add(secret)
        return entry, ttl

    def _refresh(self, entry: dict) -> dict | None:
        """A new access token from the refresh token; None when the service refuses (then: full login)."""
        url = self.url_for(self.refresh_endpoint)
        try:
            response = self._send("POST", url, None, json={"refresh": entry["refresh"]})
        except APIError as exc:
            logger.warning("Token refresh at %s failed (%s); logging in again", http.redact_url(url), exc)
            return None
        if response.status_code >= 400:
            logger.info("Token refresh at %s answered %s; logging in again", http.redact_url(url),
                        response.status_code)
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        access = _find_key(body, TOKEN_KEYS)
        if not access:
            return None
        new, ttl = self._token_entry("jwt", access, _find_key(body, REFRESH_KEYS) or entry["refresh"])
        self._write_entry(new, ttl)
        return new

    def _login(self) -> dict:
        """Log in with username and password; stores and returns the entry. Raises AuthError."""
        if self.auth_type == "deluge":
            self.login_count += 1
            return self._login_deluge()
        if not (self.username and self.password):
            raise AuthError(f"{self.auth_type} authentication needs a username and a password", permanent=True)
        self.login_count += 1
        if self.auth_type == "jellyfin":
            return self._login_jellyfin()
        if self.auth_endpoint:
            endpoints = [self.auth_endpoint]
        elif self.auth_type == "cookie":
            endpoints = [QBITTORRENT_LOGIN, *LOGIN_ENDPOINTS]
        else:
            endpoints = [*LOGIN_ENDPOINTS, QBITTORRENT_LOGIN]
        creds = {"username": self.username, "password": self.password}
        forms_first = self.auth_type == "cookie"  # form-login services
        refused = None
        for endpoint in endpoints:
            url = self.url_for(endpoint)
            # qBittorrent reads only forms and bans an IP after a few failed logins: the form goes first there
            form_first = forms_first or endpoint == QBITTORRENT_LOGIN
            for variant in (("form", "json") if form_first else ("json", "form")):
                self._session.cookies.clear()
                body = {"json": creds} if variant == "json" else {"data": creds}
                headers = {"Referer": self.base_url, "Origin": self.base_url}
                response = self._send("POST", url, None, headers=headers, **body)
                status = response.status_code
                if status in (404, 405, 501):
                    break  # no login here: next endpoint
                if status in (401, 403):
                    # The endpoint read the credentials and refused them: another body shape would only
                    # cost the service a second failed login (and count against its login throttle).
                    refused = status
                    break
                if status >= 400:
                    if status >= 500 or status == 429:
                        raise self._status_error(response, "Login failed")
                    continue
                entry = self._entry_from_login(response)
                if entry is not None:
                    logger.info("Logged in to %s at %s (%s)", http.redact_url(self.base_url), endpoint,
                                entry[0]["mode"])
                    self._write_entry(*entry)
                    return entry[0]
                if (response.text or "").strip().lower() in LOGIN_REFUSED_TEXTS:
                    refused = 401  # qBittorrent's "Fails.": the form was read and refused, as a 401 is
                    break
                refused = refused or status
        if refused == 403:
            raise AuthError("Login forbidden: the account is disabled or may not log in", status=403, permanent=True)
        if refused:
            raise AuthError("Invalid username or password", status=401, permanent=True)
        raise AuthError("Authentication endpoint not found", status=404, permanent=True)

    def _entry_from_login(self, response: requests.Response) -> tuple[dict, float] | None:
        body = None
        try:
            body = response.json()
        except ValueError:
            pass
        access = _find_key(body, TOKEN_KEYS)
        if access and self.auth_type != "cookie":
            refresh = _find_key(body, REFRESH_KEYS)
            mode = "jwt" if (self.auth_type == "jwt" or (refresh and self.refresh_endpoint)) else "bearer"
            if mode == "jwt" and not self.refresh_endpoint:
                refresh = None
            return self._token_entry(mode, access, refresh)
        cookies = {c.name: c.value for c in self._session.cookies}
        cookies.update(response.cookies.get_dict())
        text = (response.text or "").strip().lower()
        if cookies and text not in LOGIN_REFUSED_TEXTS:
            for value in cookies.values():
                register_secret(value)
                self._secrets.add(value)
            return {"mode": "cookie", "cookies": cookies}, SESSION_TTL
        return None

    def _login_deluge(self) -> dict:
        """Deluge Web: JSON-RPC ``auth.login`` with the password only; the answer sets ``_session_id``."""
        self._session.cookies.clear()
        url = self.url_for(self.auth_endpoint or "/json")
        response = self._send("POST", url, None, json={"method": "auth.login", "params": [self.password], "id": 1})
        if response.status_code >= 400:
            raise self._status_error(response, "Login failed")
        try:
            accepted = response.json().get("result") is True
        except (ValueError, AttributeError):
            accepted = False
        cookies = {c.name: c.value for c in self._session.cookies}
        cookies.update(response.cookies.get_dict())
        if not accepted or not cookies:
            raise AuthError("Invalid password", status=401, permanent=True)
        for value in cookies.values():
            register_secret(value)
            self._secrets.add(value)
        logger.info("Logged in to %s (deluge)", http.redact_url(self.base_url))
        entry = {"mode": "cookie", "cookies": cookies}
        self._write_entry(entry, SESSION_TTL)
        return entry

    def _login_jellyfin(self) -> dict:
        url = self.url_for(self.auth_endpoint or "/Users/AuthenticateByName")
        response = self._send("POST", url, None, json={"Username": self.username, "Pw": self.password},
                              headers={"Authorization": MEDIABROWSER_CLIENT,
                                       "X-Emby-Authorization": MEDIABROWSER_CLIENT})
        if response.status_code == 403:
            raise AuthError("Login forbidden: the account is disabled or may not log in", status=403, permanent=True)
        if response.status_code == 401:
            raise AuthError("Invalid username or password", status=401, permanent=True)
        if response.status_code >= 400:
            raise self._status_error(response, "Login failed")
        try:
            access = _find_key(response.json(), ("AccessToken", "access_token", "token"))
        except ValueError:
            access = None
        if not access:
            raise AuthError("Login answer carried no access token", status=response.status_code, permanent=True)
        entry, ttl = self._token_entry("jellyfin", access)
        self._write_entry(entry, ttl)
        return entry

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
        permanent = status < 500 and status != 429
        cls = AuthError if status in (401, 403) else APIError
        return cls(message, status=status, body=self._scrub(body), permanent=permanent)
