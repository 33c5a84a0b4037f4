"""``jellyfin`` and ``emby`` (one class, two names): a key (the Service's api_key) or the token of a login with
username and password at ``/Users/AuthenticateByName``, sent both as ``Authorization: MediaBrowser Token="..."``
and as ``X-Emby-Token``."""
from __future__ import annotations

import logging

from homelab import http
from integrations.errors import AuthError

from . import register
from .base import AuthMode
from .tokens import find_key

logger = logging.getLogger("integrations.client")

# who is logging in: Jellyfin and Emby need the client and device named on AuthenticateByName
MEDIABROWSER_CLIENT = 'MediaBrowser Client="homelab", Device="homelab", DeviceId="homelab", Version="0.1"'
LOGIN_ENDPOINT = "/Users/AuthenticateByName"


@register("jellyfin", "emby")
class JellyfinMode(AuthMode):
    @property
    def logs_in(self) -> bool:
        return not self.client.api_key and bool(self.client.username)

    def check_login(self):
        if not (self.client.username and self.client.password):
            raise AuthError(f"{self.name} authentication needs a username and a password", permanent=True)

    def apply(self, out, entry):
        token = (entry or {}).get("access") or self.client.api_key
        if token:
            out.headers["X-Emby-Token"] = token
            out.headers["Authorization"] = f'MediaBrowser Token="{token}"'

    def login(self):
        client = self.client
        url = client.url_for(client.auth_endpoint or LOGIN_ENDPOINT)
        response = client._send("POST", url, None, json={"Username": client.username, "Pw": client.password},
                                headers={"Authorization": MEDIABROWSER_CLIENT,
                                         "X-Emby-Authorization": MEDIABROWSER_CLIENT})
        if response.status_code == 403:
            raise AuthError("Login forbidden: the account is disabled or may not log in", status=403, permanent=True)
        if response.status_code == 401:
            raise AuthError("Invalid username or password", status=401, permanent=True)
        if response.status_code >= 400:
            raise client._status_error(response, "Login failed")
        try:
            access = find_key(response.json(), ("AccessToken", "access_token", "token"))
        except ValueError:
            access = None
        if not access:
            raise AuthError("Login answer carried no access token", status=response.status_code, permanent=True)
        logger.info("Logged in to %s (%s)", http.redact_url(client.base_url), self.name)
        return client._token_entry(self.name, access)
