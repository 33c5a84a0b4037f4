"""``xtream``: an Xtream Codes panel. The Service's api_username and api_password go into the query of every
request (``player_api.php?username=..&password=..&action=get_live_streams``, ``get.php?..&type=m3u_plus``), first,
before the caller's parameters. Both values are secrets here: masked in every log line, error message and
exception text the client produces, and in answers the proxy returns (``player_api.php`` echoes them in
``user_info``)."""
from __future__ import annotations

from integrations.errors import AuthError

from . import register
from .base import AuthMode

MIN_MASKED_USERNAME = 3  # a one- or two-letter user name would mask every occurrence of those letters


@register("xtream")
class XtreamMode(AuthMode):
    username_is_secret = True  # half of the panel's login, in every get.php / player_api.php URL

    def secrets(self):
        username = self.client.username or ""
        return [username] if len(username) >= MIN_MASKED_USERNAME else []

    def apply(self, out, entry):
        client = self.client
        if not (client.username and client.password):
            raise AuthError("xtream authentication needs a username and a password", permanent=True)
        out.params["username"] = client.username
        out.params["password"] = client.password
