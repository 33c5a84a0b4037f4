"""The Dispatcharr client: ``GenericAPIClient.for_service(service)`` in JWT mode (Dispatcharr's
``/api/accounts/token/`` and ``/api/accounts/token/refresh/``), on the integrations ``Service`` that holds the
remote's URL and encrypted credentials. The token is cached per URL and username in the Django cache (shared by
web and workers), refreshed about a minute before expiry, replaced by a full login when the refresh fails, and a
401 answer makes the client log in again and retry once."""
from __future__ import annotations

from django.conf import settings

from integrations.client import APIError, AuthError, GenericAPIClient
from integrations.models import Service

from .manager import EPGManager
from .models import normalize_url

__all__ = ["APIError", "AuthError", "dispatcharr_client", "manager_for", "manager_for_link", "manager_for_service",
           "unsaved_service"]

SERVICE_TYPE = "dispatcharr"
TOKEN_ENDPOINT = "/api/accounts/token/"
REFRESH_ENDPOINT = "/api/accounts/token/refresh/"


def unsaved_service(url: str, username: str, password: str, *, verify: bool = True) -> Service:
    """A Service row in memory only: what ``/api/dispatcharr/test`` and ``discover`` check before anything is
    saved, built the same way as a stored one."""
    return Service(name="", api_url=normalize_url(url), api_username=username, api_password=password,
                   verify_ssl=verify, source=Service.Source.MANUAL, service_type=SERVICE_TYPE, api_auth_type="jwt")


def dispatcharr_client(service: Service, *, timeout: float | None = None) -> GenericAPIClient:
    return GenericAPIClient.for_service(
        service, auth_type="jwt", auth_endpoint=service.api_auth_endpoint or TOKEN_ENDPOINT,
        refresh_endpoint=REFRESH_ENDPOINT,
        timeout=timeout if timeout is not None else settings.DISPATCHARR_TIMEOUT,
    )


def manager_for_service(service: Service, *, fresh_login: bool = False, **kwargs) -> EPGManager:
    """An EPGManager on the Dispatcharr a Service names. ``fresh_login`` forgets any cached token for this URL and
    username first, so the password is really checked (the test and settings endpoints must not pass on a token
    that an earlier, right password obtained)."""
    client = dispatcharr_client(service)
    if fresh_login:
        client.logout()
    return EPGManager(client, label=f"Dispatcharr at {client.base_url}", **kwargs)


def manager_for(url: str, username: str, password: str, *, verify: bool = True, **kwargs) -> EPGManager:
    return manager_for_service(unsaved_service(url, username, password, verify=verify), **kwargs)


def manager_for_link(link, **kwargs) -> EPGManager:
    return manager_for_service(link.service, **kwargs)
