"""Rows for the tests: a Dispatcharr link on a manual integrations Service holding its URL and credentials."""
from __future__ import annotations

from epg.remote import services
from epg.remote.models import DispatcharrLink
from integrations.models import Service


def dispatcharr_service(url: str, username: str, password: str, *, verify_tls: bool = True, **fields) -> Service:
    return services.save_service(Service(
        source=Service.Source.MANUAL, service_type="dispatcharr", api_auth_type="jwt", api_url=url.rstrip("/"),
        api_username=username, api_password=password, verify_ssl=verify_tls, **fields))


def create_link(*, url: str, username: str, password: str, verify_tls: bool = True, **fields) -> DispatcharrLink:
    service = dispatcharr_service(url, username, password, verify_tls=verify_tls)
    return DispatcharrLink.objects.create(service=service, **fields)
