"""The Dispatcharr client: the integrations ``GenericAPIClient`` in JWT mode (Dispatcharr's
``/api/accounts/token/`` and ``/api/accounts/token/refresh/``). The token is cached per URL and username in the
Django cache (shared by web and workers), refreshed about a minute before expiry, replaced by a full login when
the refresh fails, and a 401 answer makes the client log in again and retry once."""
from __future__ import annotations

from django.conf import settings

from integrations.client import APIError, AuthError, GenericAPIClient

from .manager import EPGManager

__all__ = ["APIError", "AuthError", "dispatcharr_client", "manager_for", "manager_for_link"]

TOKEN_ENDPOINT = "/api/accounts/token/"
REFRESH_ENDPOINT = "/api/accounts/token/refresh/"


def dispatcharr_client(url: str, username: str, password: str, *, verify: bool = True,
                       timeout: float | None = None) -> GenericAPIClient:
    timeout = timeout if timeout is not None else settings.DISPATCHARR_TIMEOUT
    return GenericAPIClient(
        url.rstrip("/"), username=username, password=password, auth_type="jwt",
        auth_endpoint=TOKEN_ENDPOINT, refresh_endpoint=REFRESH_ENDPOINT, verify=verify, timeout=timeout,
    )


def manager_for(url: str, username: str, password: str, *, verify: bool = True, fresh_login: bool = False,
                **kwargs) -> EPGManager:
    """An EPGManager on a Dispatcharr. ``fresh_login`` forgets any cached token for this URL and username
    first, so the password given is really checked (the test and settings endpoints must not pass on a token
    that an earlier, right password obtained)."""
    client = dispatcharr_client(url, username, password, verify=verify)
    if fresh_login:
        client.logout()
    return EPGManager(client, label=f"Dispatcharr at {client.base_url}", **kwargs)


def manager_for_link(link, **kwargs) -> EPGManager:
    return manager_for(link.url, link.username, link.password, verify=link.verify_tls, **kwargs)
