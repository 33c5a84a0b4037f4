"""``deluge``: Deluge Web's JSON-RPC. ``auth.login`` with the password only at ``/json``; the answer sets the
``_session_id`` cookie, sent back after. Deluge answers an expired session with HTTP 200 and a JSON-RPC error of
code 1 ("Not authenticated"): that logs in again once, as a 401 does elsewhere."""
from __future__ import annotations

import logging

from homelab import http
from integrations.errors import AuthError

from . import register
from .base import AuthMode
from .tokens import SESSION_TTL

logger = logging.getLogger("integrations.client")

NOT_AUTHENTICATED = 1  # Deluge's JSON-RPC error code


@register("deluge")
class DelugeMode(AuthMode):
    @property
    def logs_in(self) -> bool:
        return bool(self.client.password)

    def apply(self, out, entry):
        if entry and entry.get("cookies"):
            out.cookies = dict(entry["cookies"])

    def login(self):
        client = self.client
        client._session.cookies.clear()
        url = client.url_for(client.auth_endpoint or "/json")
        response = client._send("POST", url, None, json={"method": "auth.login", "params": [client.password], "id": 1})
        if response.status_code >= 400:
            raise client._status_error(response, "Login failed")
        try:
            accepted = response.json().get("result") is True
        except (ValueError, AttributeError):
            accepted = False
        cookies = {c.name: c.value for c in client._session.cookies}
        cookies.update(response.cookies.get_dict())
        if not accepted or not cookies:
            raise AuthError("Invalid password", status=401, permanent=True)
        for value in cookies.values():
            client._remember_secret(value)
        logger.info("Logged in to %s (deluge)", http.redact_url(client.base_url))
        return {"mode": "cookie", "cookies": cookies}, SESSION_TTL

    def wants_relogin(self, response, *, stream):
        if response.status_code in self.relogin_statuses:
            return True
        if stream or response.status_code != 200:
            return False
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            return False
        return isinstance(error, dict) and error.get("code") == NOT_AUTHENTICATED
