"""Reads of the channels app, for the API, the admin, the M3U output and the cache export."""
from __future__ import annotations

import hashlib
from typing import NamedTuple

from django.core.cache import cache
from django.db.models import Count

from epg import selectors as epg_selectors

from . import parsers
from .models import Channel, Provider

ITEM_FIELDS = ("id", "name", "group", "category", "logo", "tvg_id", "tvg_name", "stream_url", "stream_type",
               "provider", "catchup_days", "epg_channel_id", "epg_match", "now")
_COLUMNS = ("id", "name", "group_title", "category", "logo", "tvg_id", "tvg_name", "stream_url", "stream_type",
            "provider_id", "catchup_days", "epg_channel_id", "epg_match")


class UnknownProvider(LookupError):
    pass


class Served(NamedTuple):
    name: str
    refreshed_at: object
    channel_count: int


def served_providers() -> dict[int, Served]:
    """Enabled providers: id -> (name, refreshed_at, channel_count), in one query (it runs on every read)."""
    return {pk: Served(name, at, count) for pk, name, at, count in
            Provider.objects.filter(enabled=True).order_by("id").values_list("id", "name", "refreshed_at",
                                                                             "channel_count")}


COUNT_CACHE_SECONDS = 3600


def _count(qs, providers: dict[int, Served], filters: dict) -> int:
    """``qs.count()``, kept in the cache until a served catalogue changes. Counting the matches of a common word
    is most of the cost of a search at 200,000 channels, and a front end asks for it again with every page."""
    version = sorted(providers.items())
    key = "channels:count:" + hashlib.sha1(repr((version, sorted(filters.items()))).encode()).hexdigest()
    try:
        cached = cache.get(key)
    except Exception:  # the cache is an optimisation: Redis down is not an error here
        cached = None
    if cached is not None:
        return cached
    total = qs.count()
    try:
        cache.set(key, total, COUNT_CACHE_SECONDS)
    except Exception:
        pass
    return total


def resolve_provider(value: str | None, providers: dict[int, Served]) -> int | None:
    """A provider filter given as an id or a name; UnknownProvider when it names none of the served ones."""
    if value in (None, ""):
        return None
    if value.isdigit() and int(value) in providers:
        return int(value)
    for pk, served in providers.items():
        if served.name == value:
            return pk
    raise UnknownProvider(value)


def channels(*, providers: dict[int, Served], provider_id: int | None = None, search: str = "", category: str = "",
             group: str = "", epg_missing: bool = False):
    ids = [provider_id] if provider_id is not None else list(providers)
    qs = Channel.objects.filter(provider_id__in=ids)
    if search:
        folded = parsers.fold(search)
        if folded:
            qs = qs.filter(search__contains=folded)
    if category:
        qs = qs.filter(category=category)
    if group:
        qs = qs.filter(group_title=group)
    if epg_missing:
        qs = qs.filter(epg_channel_id="")
    return qs


def channel_page(*, page: int, page_size: int, providers: dict[int, Served] | None = None, **filters) -> dict:
    """One page of the catalogue, as /iptv/channels answers it."""
    providers = served_providers() if providers is None else providers
    qs = channels(providers=providers, **filters)
    unfiltered = not any(filters.get(k) for k in ("search", "category", "group", "epg_missing", "provider_id"))
    if unfiltered:
        total = sum(p.channel_count for p in providers.values())
    else:
        total = _count(qs, providers, filters)
    offset = (page - 1) * page_size
    items = []
    if offset < total:
        rows = qs.order_by("provider_id", "position").values_list(*_COLUMNS)[offset:offset + page_size]
        items = [dict(zip(_COLUMNS, r)) for r in rows]
    now = epg_selectors.now_playing([i["epg_channel_id"] for i in items]) if items else {}
    out = []
    for i in items:
        out.append({
            "id": i["id"], "name": i["name"], "group": i["group_title"], "category": i["category"],
            "logo": i["logo"], "tvg_id": i["tvg_id"], "tvg_name": i["tvg_name"], "stream_url": i["stream_url"],
            "stream_type": i["stream_type"], "provider": providers[i["provider_id"]].name,
            "catchup_days": i["catchup_days"], "epg_channel_id": i["epg_channel_id"] or None,
            "epg_match": i["epg_match"] or None, "now": now.get(i["epg_channel_id"]),
        })
    pages = (total + page_size - 1) // page_size
    return {"items": out, "page": page, "page_size": page_size, "total": total, "pages": pages}


def stats(provider_id: int | None = None) -> dict:
    providers = served_providers()
    counts = dict(channels(providers=providers, provider_id=provider_id).order_by()
                  .values_list("category").annotate(n=Count("id")).values_list("category", "n"))
    categories = {c: counts.get(c, 0) for c in parsers.CATEGORIES}
    return {"total": sum(categories.values()), "categories": categories}


def groups(provider_id: int | None = None) -> list[dict]:
    providers = served_providers()
    rows = (channels(providers=providers, provider_id=provider_id).order_by()
            .values_list("group_title", "category").annotate(n=Count("id")).order_by("group_title", "category"))
    return [{"name": g, "category": c, "count": n} for g, c, n in rows]


def output_channels(*, category: str = "tv", group: str = ""):
    """Rows for /output/channels.m3u: channels of enabled providers, in playlist order."""
    qs = Channel.objects.filter(provider__enabled=True)
    if category:
        qs = qs.filter(category=category)
    if group:
        qs = qs.filter(group_title=group)
    return qs.order_by("provider_id", "position").values_list(
        "name", "tvg_id", "tvg_name", "logo", "group_title", "chno", "catchup", "catchup_days", "catchup_source",
        "options", "stream_url", "epg_channel_id")


def status(provider: Provider | None) -> dict:
    if provider is None:
        return {"refreshing": False, "progress": 0, "last_refresh": None, "channel_count": 0, "stale": True,
                "last_error": None, "host": None, "status": "idle", "message": "No IPTV provider: POST /iptv/login."}
    return {
        "refreshing": provider.is_running,
        "progress": provider.progress,
        "last_refresh": provider.refreshed_at.isoformat() if provider.refreshed_at else None,
        "channel_count": provider.channel_count,
        "stale": provider.is_stale,
        "last_error": provider.last_error or None,
        "host": provider.host or None,
        "status": provider.status,
        "message": provider.last_message,
    }

