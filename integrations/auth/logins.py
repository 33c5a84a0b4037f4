"""The login modes: ``bearer``, ``jwt`` and ``cookie``. Username and password are POSTed to a login endpoint;
the answer's token goes out as ``Authorization: Bearer`` (``jwt``: with a refresh token, refreshed about a
minute before expiry, a full login when the refresh fails), or its session cookie is sent back (``cookie``,
qBittorrent's form login at ``/api/v2/auth/login``).

Without an ``auth_endpoint`` the endpoints of ``LOGIN_ENDPOINTS`` are tried in turn (JSON, then form; forms
first in cookie mode and at qBittorrent's endpoint), and a token in the body or a session cookie is recognised.
"""
from __future__ import annotations

import logging

from homelab import http
from integrations.errors import APIError, AuthError

from . import register
from .basic import LoginCredentialsMode
from .tokens import REFRESH_KEYS, SESSION_TTL, TOKEN_KEYS, find_key

logger = logging.getLogger("integrations.client")

LOGIN_ENDPOINTS = ("/api/auth", "/api/login", "/auth/login", "/login")
QBITTORRENT_LOGIN = "/api/v2/auth/login"  # tried last by the auto mode (the guide's qBittorrent example)
LOGIN_REFUSED_TEXTS = ("fails.", "fail", "failed")  # a 200 whose body refuses the login (qBittorrent)


class PasswordLoginMode(LoginCredentialsMode):
    """What the three share: the login flow, the refresh, the cookie entry."""

    accepts_tokens = True   # cookie mode reads only the session cookie
    forms_first = False     # form-login services

    @property
    def logs_in(self) -> bool:
        return True

    def check_login(self):
        if not (self.client.username and self.client.password):
            raise AuthError(f"{self.name} authentication needs a username and a password", permanent=True)

    def for_entry(self, entry):
        if entry and entry.get("mode") == "cookie" and not isinstance(self, CookieMode):
            return CookieMode(self.client)  # the auto mode's login found a session cookie: requests go as qBittorrent's
        return self

    def apply(self, out, entry):
        if entry and entry.get("cookies"):
            out.cookies = dict(entry["cookies"])
        elif entry and entry.get("access"):
            out.headers["Authorization"] = f"Bearer {entry['access']}"

    def token_mode(self, refresh: str | None) -> str:
        return "jwt" if refresh and self.client.refresh_endpoint else "bearer"

    def login(self):
        client = self.client
        if client.auth_endpoint:
            endpoints = [client.auth_endpoint]
        elif self.forms_first:
            endpoints = [QBITTORRENT_LOGIN, *LOGIN_ENDPOINTS]
        else:
            endpoints = [*LOGIN_ENDPOINTS, QBITTORRENT_LOGIN]
        creds = {"username": client.username, "password": client.password}
        refused = None
        for endpoint in endpoints:
            url = client.url_for(endpoint)
            # qBittorrent reads only forms and bans an IP after a few failed logins: the form goes first there
            form_first = self.forms_first or endpoint == QBITTORRENT_LOGIN
            for variant in (("form", "json") if form_first else ("json", "form")):
                client._session.cookies.clear()
                body = {"json": creds} if variant == "json" else {"data": creds}
                headers = {"Referer": client.base_url, "Origin": client.base_url}
                response = client._send("POST", url, None, headers=headers, **body)
                status = response.status_code
                if status in (404, 405, 501):
                    break  # no login here: next endpoint
                if status in (401, 403):
                    # The endpoint read the credentials and refused them: another body shape would only
                    # cost the service a second failed login (and count against its login throttle).
                    refused = status
                    break
                if status >= 400:
                    if http.is_temporary(status):
                        raise client._status_error(response, "Login failed")
                    continue
                entry = self._entry_from_login(response)
                if entry is not None:
                    logger.info("Logged in to %s at %s (%s)", http.redact_url(client.base_url), endpoint,
                                entry[0]["mode"])
                    return entry
                if (response.text or "").strip().lower() in LOGIN_REFUSED_TEXTS:
                    refused = 401  # qBittorrent's "Fails.": the form was read and refused, as a 401 is
                    break
                refused = refused or status
        if refused == 403:
            raise AuthError("Login forbidden: the account is disabled or may not log in", status=403, permanent=True)
        if refused:
            raise AuthError("Invalid username or password", status=401, permanent=True)
        raise AuthError("Authentication endpoint not found", status=404, permanent=True)

    def _entry_from_login(self, response) -> tuple[dict, float] | None:
        client = self.client
        try:
            body = response.json()
        except ValueError:
            body = None
        access = find_key(body, TOKEN_KEYS)
        if access and self.accepts_tokens:
            refresh = find_key(body, REFRESH_KEYS)
            mode = self.token_mode(refresh)
            if mode == "jwt" and not client.refresh_endpoint:
                refresh = None
            return client._token_entry(mode, access, refresh)
        cookies = {c.name: c.value for c in client._session.cookies}
        cookies.update(response.cookies.get_dict())
        text = (response.text or "").strip().lower()
        if cookies and text not in LOGIN_REFUSED_TEXTS:
            for value in cookies.values():
                client._remember_secret(value)
            return {"mode": "cookie", "cookies": cookies}, SESSION_TTL
        return None

    def refresh(self, entry):
        """A new access token from the refresh token; None when the service refuses (then: full login)."""
        client = self.client
        if not (entry.get("refresh") and client.refresh_endpoint):
            return None
        url = client.url_for(client.refresh_endpoint)
        try:
            response = client._send("POST", url, None, json={"refresh": entry["refresh"]})
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
        access = find_key(body, TOKEN_KEYS)
        if not access:
            return None
        return client._token_entry("jwt", access, find_key(body, REFRESH_KEYS) or entry["refresh"])


@register("bearer")
class BearerMode(PasswordLoginMode):
    pass


@register("jwt")
class JWTMode(PasswordLoginMode):
    uses_refresh_endpoint = True

    def token_mode(self, refresh):
        return "jwt"


@register("cookie")
class CookieMode(PasswordLoginMode):
    accepts_tokens = False
    forms_first = True
    form_bodies = True
    relogin_statuses = (401, 403)  # qBittorrent answers an expired session with 403
