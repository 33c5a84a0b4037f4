"""``auto`` (``auth_type=None``): picks a mode from what is given. A key: ``api_key``; a username and password:
``jwt`` when a refresh endpoint is configured, else ``bearer`` (whose login tries the usual endpoints and also
recognises a session cookie); nothing: ``none``."""
from __future__ import annotations

from . import mode_class, register
from .base import AuthMode


@register("auto")
class AutoMode(AuthMode):
    uses_refresh_endpoint = True

    @staticmethod
    def pick(client) -> str:
        if client.api_key:
            return "api_key"
        if client.username and client.password:
            return "jwt" if client.refresh_endpoint else "bearer"
        return "none"

    @classmethod
    def for_client(cls, client):
        return mode_class(cls.pick(client)).for_client(client)
