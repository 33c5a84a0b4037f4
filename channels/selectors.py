"""Reads of the channels app, for the API, the admin, the M3U output and the cache export."""
from __future__ import annotations

import hashlib
import threading
from array import array
from collections import OrderedDict
from typing import NamedTuple

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q

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
    generation: int
    channel_count: int


def served_providers() -> dict[int, Served]:
    """Enabled providers: id -> (name, generation, channel_count), in one query (it runs on every read)."""
    sql, params = _compiled("served", lambda: Provider.objects.filter(enabled=True).order_by("id").values_list(
        "id", "name", "generation", "channel_count"))
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    return {pk: Served(name, generation, count) for pk, name, generation, count in rows}


_SQL: dict = {}


def _compiled(shape, build) -> tuple[str, tuple]:
    """(SQL, parameters) of ``build()`` (a queryset), compiled by the ORM once per shape and database vendor:
    compiling a queryset costs more Python than running its query (about 1 ms a request at 200,000 channels)."""
    key = (connection.vendor, shape)
    found = _SQL.get(key)
    if found is None:
        found = _SQL[key] = build().query.sql_with_params()
    return found


MATCHES_CACHE_SECONDS = 3600
MATCHES_KEPT = 1000               # ids kept of a filtered listing: all of a rare term's, the first pages of a common one
_LOCAL_BUDGET_BYTES = 8 << 20     # what this process keeps of them (the last searches)
_LOCAL: OrderedDict[str, tuple[int, array]] = OrderedDict()
_local_bytes = 0
_local_lock = threading.Lock()  # web threads share it


class Matches(NamedTuple):
    total: int
    ids: array  # the first MATCHES_KEPT matching ids in catalogue order (all of them when total <= MATCHES_KEPT)


def _matches(providers: dict[int, Served], filters: dict) -> Matches:
    """The total of a filtered listing and its first MATCHES_KEPT ids in catalogue order, computed once and kept
    until a served catalogue changes. A front end asks for the same search again with every page. A rare term's
    page costs as much as all its matches (a trigram index scan, a recheck of every candidate and a sort: 15 ms at
    200,000 channels for "film 19"), so its first page finds them all and the next ones read 50 rows by primary
    key. A common term's pages past the kept ids are cheap in SQL (the catalogue read in order stops at the page).

    The key holds every served provider's (id, generation): a changed catalogue makes new keys (the old ones
    expire), so this process also keeps what it saw, without a Redis round trip for the next page. A refresh that
    changed nothing keeps the generation, and what was kept stays good."""
    version = sorted((pk, p.generation) for pk, p in providers.items())
    key = "channels:matches:" + hashlib.sha1(repr((version, sorted(filters.items()))).encode()).hexdigest()
    with _local_lock:
        found = _LOCAL.get(key)
        if found is not None:
            _LOCAL.move_to_end(key)
            return Matches(*found)
    try:
        found = cache.get(key)
    except Exception:  # the cache is an optimisation: Redis down is not an error here
        found = None
    if found is not None:
        found = Matches(found[0], _ids(found[1]))
    else:
        found = _compute_matches(providers, filters)
        try:
            cache.set(key, (found.total, found.ids.tobytes()), MATCHES_CACHE_SECONDS)
        except Exception:
            pass
    _keep(key, found)
    return found


def _size(found) -> int:
    return 64 + 8 * len(found[1])


def _keep(key: str, found: Matches) -> None:
    global _local_bytes
    with _local_lock:
        if key in _LOCAL:
            return
        while _LOCAL and _local_bytes + _size(found) > _LOCAL_BUDGET_BYTES:
            _local_bytes -= _size(_LOCAL.popitem(last=False)[1])
        _LOCAL[key] = tuple(found)
        _local_bytes += _size(found)


def forget_matches() -> None:
    """Drop what this process keeps (tests: ids restart with each test's database)."""
    global _local_bytes
    with _local_lock:
        _LOCAL.clear()
        _local_bytes = 0


def _ids(raw: bytes) -> array:
    out = array("q")
    out.frombytes(raw)
    return out


def _compute_matches(providers: dict[int, Served], filters: dict) -> Matches:
    ids = array("q", channels(providers=providers, **filters).order_by("provider_id", "position")
                .values_list("id", flat=True)[:MATCHES_KEPT + 1])
    if len(ids) <= MATCHES_KEPT:
        return Matches(len(ids), ids)
    return Matches(channels(providers=providers, **filters).count(), ids[:MATCHES_KEPT])


def _rows_by_id(ids) -> list[tuple] | None:
    """The page's rows (``_COLUMNS``) of these channel ids, in their order; None when one has gone (a catalogue
    swapped between the served providers' read and this one)."""
    if not ids:
        return []
    sql, _ = _compiled("by_id", lambda: Channel.objects.filter(id__in=[0]).order_by().values_list(*_COLUMNS))
    head, placeholder, tail = sql.rpartition("IN (%s)")
    if not placeholder:
        raise AssertionError(f"unexpected SQL for a read by id: {sql}")
    with connection.cursor() as cur:
        cur.execute(head + "IN (" + ", ".join(["%s"] * len(ids)) + ")" + tail, list(ids))
        rows = {row[0]: row for row in cur.fetchall()}
    if len(rows) != len(ids):
        return None
    return [rows[pk] for pk in ids]


def resolve_provider(value: str | None, providers: dict[int, Served]) -> int | None:
    """A provider filter given as an id or a name; UnknownProvider when it names none of the served ones."""
    if value in (None, ""):
        return None
    if value.isascii() and value.isdigit() and int(value) in providers:  # not a full-width "１"
        return int(value)
    for pk, served in providers.items():
        if served.name == value:
            return pk
    raise UnknownProvider(value)


def search_filter(search: str) -> Q | None:
    """What ``search`` matches (the API's and the admin's): the folded column (case, accents, width) contains it;
    a search of symbols only, which folding drops (Free-TV's Ⓖ), matches the names as written (a scan); None when
    it is blank."""
    folded = parsers.fold(search) if search else ""
    if folded:
        return Q(search__contains=folded)
    raw = (search or "").strip()
    if raw:
        return Q(name__icontains=raw) | Q(tvg_name__icontains=raw) | Q(group_title__icontains=raw)
    return None


def channels(*, providers: dict[int, Served], provider_id: int | None = None, search: str = "", category: str = "",
             group: str = "", epg_missing: bool = False):
    ids = [provider_id] if provider_id is not None else list(providers)
    qs = Channel.objects.filter(provider_id__in=ids)
    matching = search_filter(search)
    if matching is not None:
        qs = qs.filter(matching)
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
    if search and not folded and search.strip():  # a rare search of symbols only: no compiled shape for it
        return list(channels(providers=providers, provider_id=provider_id, search=search, category=category,
                             group=group, epg_missing=epg_missing).order_by("provider_id", "position")
                    .values_list(*_COLUMNS)[offset:offset + limit])
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
    offset = (page - 1) * page_size
    rows = None
    if unfiltered:
        total = sum(p.channel_count for p in providers.values())
    else:
        total, ids = _matches(providers, filters)
        if offset + page_size <= len(ids) or len(ids) == total:
            rows = _rows_by_id(ids[offset:offset + page_size])
    if rows is None:
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

