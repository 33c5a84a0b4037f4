"""Reads of the push-refresh rows."""
from __future__ import annotations

from .models import DispatcharrLink, normalize_url


def default_link() -> DispatcharrLink | None:
    """The link ``/api/dispatcharr/settings`` shows and edits: the first one (lowest id)."""
    return DispatcharrLink.objects.select_related("service").order_by("pk").first()


def stored_password(url: str, username: str) -> str:
    """The stored password of the link with this URL and username ("" when there is none): its Service's."""
    url = normalize_url(url)
    for link in DispatcharrLink.objects.filter(service__api_username=username).select_related("service"):
        if link.url == url:
            return link.password
    return ""


def enabled_link_ids() -> list[int]:
    return list(DispatcharrLink.objects.filter(enabled=True).values_list("pk", flat=True))
