"""``plex``: a Plex Media Server or plex.tv. ``X-Plex-Token`` (the Service's api_key) plus the client identity
Plex and plex.tv ask every app for: ``X-Plex-Client-Identifier`` (``PLEX_CLIENT_IDENTIFIER``, one per install),
``X-Plex-Product`` (``PLEX_PRODUCT``) and ``X-Plex-Version``. Without a token the identity still goes out, which
is what plex.tv's PIN sign-in (``POST /api/v2/pins``) needs.

    plex = GenericAPIClient.for_service(service)            # a server: api_url http://plex:32400, api_key token
    account = plex_tv_client(token)                          # plex.tv (PLEX_TV_URL)
    account.get("/api/v2/user")
"""
from __future__ import annotations

from django.conf import settings

from . import register
from .base import AuthMode

PLEX_VERSION = "0.1.0"


def plex_headers() -> dict[str, str]:
    """The client identity headers (no token)."""
    return {"X-Plex-Client-Identifier": settings.PLEX_CLIENT_IDENTIFIER, "X-Plex-Product": settings.PLEX_PRODUCT,
            "X-Plex-Version": PLEX_VERSION}


@register("plex")
class PlexMode(AuthMode):
    def apply(self, out, entry):
        out.headers.update(plex_headers())
        if self.client.api_key:
            out.headers["X-Plex-Token"] = self.client.api_key


def plex_tv_client(token: str | None = None, **kwargs):
    """A GenericAPIClient on plex.tv (``PLEX_TV_URL``) with the account's token (None for the PIN sign-in)."""
    from integrations.client import GenericAPIClient

    return GenericAPIClient(settings.PLEX_TV_URL, api_key=token, auth_type="plex", **kwargs)
