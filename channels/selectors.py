"""Reads of the channels app, for the API, the admin, the M3U output and the cache export."""
from __future__ import annotations

import hashlib
from typing import NamedTuple

from django.core.cache import cache
from django.db import connection
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
    sql, params = _compiled("served", lambda: Provider.objects.filter(enabled=True).order_by("id").values_list(
        "id", "name", "refreshed_at", "channel_count"))
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    convert = _converters("refreshed_at")
    return {pk: Served(name, convert(at), count) for pk, name, at, count in rows}


def _converters(name: str):
    """The ORM's database converters of a Provider column (SQLite: an aware datetime), as one function."""
    field = Provider._meta.get_field(name)
    col = field.get_col(Provider._meta.db_table)
    found = connection.ops.get_db_converters(col) + field.get_db_converters(connection)

    def convert(value):
        for f in found:
            value = f(value, col, connection)
        return value

    return convert


_SQL: dict = {}


def _compiled(shape, build) -> tuple[str, tuple]:
    """(SQL, parameters) of ``build()`` (a queryset), compiled by the ORM once per shape and database vendor:
    compiling a queryset costs more Python than running its query (about 1 ms a request at 200,000 channels)."""
    key = (connection.vendor, shape)
    found = _SQL.get(key)
    if found is None:
        found = _SQL[key] = build().query.sql_with_params()
    return found


COUNT_CACHE_SECONDS = 3600


_LOCAL_COUNTS: dict[str, int] = {}
_LOCAL_COUNTS_MAX = 4096


def _count(build, providers: dict[int, Served], filters: dict) -> int:
    """``build().count()``, kept in the cache until a served catalogue changes. Counting the matches of a common word
    is most of the cost of a search at 200,000 channels, and a front end asks for it again with every page.

    The key holds every served provider's (id, name, refreshed_at, channel_count): a changed catalogue makes new
    keys, so this process also keeps the totals it saw (no Redis round trip for the next page)."""
    version = sorted(providers.items())
    key = "channels:count:" + hashlib.sha1(repr((version, sorted(filters.items()))).encode()).hexdigest()
    cached = _LOCAL_COUNTS.get(key)
    if cached is not None:
        return cached
    try:
        cached = cache.get(key)
    except Exception:  # the cache is an optimisation: Redis down is not an error here
        cached = None
    if cached is None:
        cached = build().count()
        try:
            cache.set(key, cached, COUNT_CACHE_SECONDS)
        except Exception:
            pass
    if len(_LOCAL_COUNTS) >= _LOCAL_COUNTS_MAX:
        _LOCAL_COUNTS.clear()
    _LOCAL_COUNTS[key] = cached
    return cached


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


def _page_rows(*, providers: dict[int, Served], provider_id: int | None = None, search: str = "", category: str = "",
               group: str = "", epg_missing: bool = False, offset: int, limit: int) -> list[tuple]:
    """``channels(...).order_by("provider_id", "position").values_list(*_COLUMNS)[offset:offset + limit]``, its SQL
    compiled once per shape (which filters, how many providers): the same SQL, the same parameters."""
    ids = [provider_id] if provider_id is not None else list(providers)
    if not ids:
        return []
    params: list = list(ids)
    folded = parsers.fold(search) if search else ""
    if folded:
        params.append(f"%{connection.ops.prep_for_like_query(folded)}%")  # what the ORM's ``contains`` sends
    for value, wanted in ((category, category), (group, group), ("", epg_missing)):
        if wanted:
            params.append(value)
    shape = ("page", len(ids), bool(folded), bool(category), bool(group), bool(epg_missing))
    sql, _ = _compiled(shape, lambda: channels(
        providers=dict.fromkeys(range(len(ids))), search="x" if folded else "", category="x" if category else "",
        group="x" if group else "", epg_missing=epg_missing).order_by("provider_id", "position").values_list(*_COLUMNS))
    with connection.cursor() as cur:
        cur.execute(sql + " LIMIT %s OFFSET %s", [*params, limit, offset])
        return cur.fetchall()


def channel_page(*, page: int, page_size: int, providers: dict[int, Served] | None = None, **filters) -> dict:
    """One page of the catalogue, as /iptv/channels answers it."""
    providers = served_providers() if providers is None else providers
    unfiltered = not any(filters.get(k) for k in ("search", "category", "group", "epg_missing", "provider_id"))
    if unfiltered:
        total = sum(p.channel_count for p in providers.values())
    else:
        total = _count(lambda: channels(providers=providers, **filters), providers, filters)
    offset = (page - 1) * page_size
    rows = _page_rows(providers=providers, offset=offset, limit=page_size, **filters) if offset < total else []
    epg_ids = [r[11] for r in rows if r[11]]
    now = epg_selectors.now_playing(epg_ids) if epg_ids else {}
    names = {pk: p.name for pk, p in providers.items()}
    out = [{"id": pk, "name": name, "group": group_title, "category": category, "logo": logo, "tvg_id": tvg_id,
            "tvg_name": tvg_name, "stream_url": stream_url, "stream_type": stream_type, "provider": names[provider_id],
            "catchup_days": catchup_days, "epg_channel_id": epg_channel_id or None, "epg_match": epg_match or None,
            "now": now.get(epg_channel_id)}
           for (pk, name, group_title, category, logo, tvg_id, tvg_name, stream_url, stream_type, provider_id,
                catchup_days, epg_channel_id, epg_match) in rows]
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

