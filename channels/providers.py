"""The default provider (the original backend's one account): from /iptv/login or IPTV_HOST / IPTV_USERNAME /
IPTV_PASSWORD, kept as a Provider row linked to a manual ``xtream`` Service that holds the credentials
(encrypted). Unlike the original, which kept them in memory only, workers and schedules need them."""
from __future__ import annotations

import logging

from django.conf import settings
from django.db import IntegrityError, transaction

from homelab.http import redact_url
from homelab.validators import http_url_problem
from integrations.models import Service

from .models import Provider

logger = logging.getLogger("channels.providers")

DEFAULT_NAME = "default"


class InvalidHost(ValueError):
    pass


def normalise_host(host: str) -> str:
    """``provider.example:8080`` -> ``http://provider.example:8080``; a trailing slash or path is dropped."""
    host = (host or "").strip()
    if host and "://" not in host:
        host = "http://" + host
    if http_url_problem(host):
        raise InvalidHost("Enter the provider's URL, e.g. http://provider.example:8080")
    return host.rstrip("/")


def default_provider() -> Provider | None:
    return Provider.objects.select_related("service").filter(is_default=True).first()


def set_default_account(*, host: str, username: str, password: str, verify_ssl: bool | None = None) -> Provider:
    """Create or update the default provider and its Service with this Xtream account. The provider (and so
    every channel id) is kept when only the password or the host changes. Two first logins at once: the
    second one finds the row the first created."""
    try:
        return _set_default_account(host=host, username=username, password=password, verify_ssl=verify_ssl)
    except IntegrityError:
        return _set_default_account(host=host, username=username, password=password, verify_ssl=verify_ssl)


@transaction.atomic
def _set_default_account(*, host: str, username: str, password: str, verify_ssl: bool | None = None) -> Provider:
    host = normalise_host(host)
    provider = (Provider.objects.select_for_update(of=("self",)).select_related("service")
                .filter(is_default=True).first())
    service = provider.service if provider is not None and provider.service_id else None
    if service is None:
        name = f"IPTV provider {redact_url(host)}"
        service = Service.objects.filter(name=name).first() or Service(name=name)
    service.source = Service.Source.MANUAL
    service.service_type = "xtream"
    service.api_auth_type = "xtream"
    service.api_url = host
    service.api_username = username
    service.api_password = password
    if verify_ssl is not None:
        service.verify_ssl = verify_ssl
    service.save()
    if provider is None:
        name = DEFAULT_NAME if not Provider.objects.filter(name=DEFAULT_NAME).exists() else f"{DEFAULT_NAME} ({service.pk})"
        provider = Provider.objects.create(name=name, source_type=Provider.SourceType.XTREAM, service=service,
                                           is_default=True)
    else:
        Provider.objects.filter(pk=provider.pk).update(service=service, source_type=Provider.SourceType.XTREAM,
                                                       enabled=True)
        provider.refresh_from_db()
    return provider


def configure_from_settings() -> tuple[Provider | None, bool]:
    """IPTV_HOST / IPTV_USERNAME / IPTV_PASSWORD (when IPTV_HOST is set) as the default provider; idempotent:
    nothing is written when the stored account already says the same. Returns (provider, changed)."""
    if not settings.IPTV_HOST:
        return None, False
    try:
        host = normalise_host(settings.IPTV_HOST)
    except InvalidHost:
        logger.error("IPTV_HOST is not a URL (%s); the default IPTV provider is left as it is", redact_url(settings.IPTV_HOST))
        return None, False
    current = default_provider()
    if (current is not None and current.service_id and current.service.api_url == host
            and current.service.api_username == settings.IPTV_USERNAME
            and current.service.api_password == settings.IPTV_PASSWORD
            and current.service.verify_ssl == settings.VERIFY_SSL):
        return current, False
    provider = set_default_account(host=host, username=settings.IPTV_USERNAME, password=settings.IPTV_PASSWORD,
                                   verify_ssl=settings.VERIFY_SSL)
    logger.info("Default IPTV provider set from IPTV_HOST (%s)", redact_url(host))
    return provider, True
