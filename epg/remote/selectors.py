"""Reads of the push-refresh rows."""
from __future__ import annotations

from .models import DispatcharrLink, normalize_url


def default_link() -> DispatcharrLink | None:
    """The link ``/api/dispatcharr/settings`` shows and edits: the first one (lowest id)."""
    return DispatcharrLink.objects.order_by("pk").first()


def stored_password(url: str, username: str) -> str:
    """The stored password of the link with this URL and username ("" when there is none)."""
    link = DispatcharrLink.objects.filter(url=normalize_url(url), username=username).only("password").first()
    return link.password if link else ""


def enabled_link_ids() -> list[int]:
    return list(DispatcharrLink.objects.filter(enabled=True).values_list("pk", flat=True))
