"""Reads of the epg app, for the API, the admin, the output and other apps (``channels`` may use these)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone as dt_timezone
from typing import Iterator

from django.db.models import CharField, F, Func

from homelab import clock

from .models import EPGChannel, EPGSource, Programme

GRID_FIELDS = ("id", "start_time", "end_time", "title", "sub_title", "description", "tvg_id", "season", "episode",
               "is_new", "is_live", "is_premiere", "is_finale")


def sources():
    return EPGSource.objects.all()


def running_import_message(source_id: int) -> str:
    """What an import request that started nothing answers: the running import, and since when (UTC)."""
    since = EPGSource.objects.filter(pk=source_id).values_list("status_changed_at", flat=True).first()
    when = since.astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if since else "unknown"
    return f"An import is already running (since {when})."


def served_channels(*, source_id: int | None = None, tvg_id: str | None = None):
    """Guide channels being served (current generation of each source), as Dispatcharr's EPGData rows."""
    qs = EPGChannel.objects.current()
    if source_id is not None:
        qs = qs.filter(source_id=source_id)
    if tvg_id is not None:
        qs = qs.filter(tvg_id=tvg_id)
    return qs.order_by("id").values("id", "tvg_id", "name", "icon_url", epg_source=F("source_id"))


def grid_window(now: datetime | None = None) -> tuple[datetime, datetime]:
    now = now or clock.now()
    return now - timedelta(hours=1), now + timedelta(hours=24)


class UTCISO(Func):
    """A datetime column as an ISO 8601 UTC string made by the database (``2025-11-24T19:00:00Z``): reading
    thousands of timestamps as text skips the driver's per-value datetime parsing. Guide times have whole seconds."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"""to_char({sql} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')""", params

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', {sql})", params

    def as_sql(self, compiler, connection, **extra):  # other backends: the plain value, formatted in Python
        return compiler.compile(self.source_expressions[0])


class XMLTVTime(Func):
    """A datetime column as an XMLTV time made by the database: ``20251124190000 +0000``."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(to_char({sql} AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISS') || ' +0000')", params

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(strftime('%%Y%%m%%d%%H%%M%%S', {sql}) || ' +0000')", params

    def as_sql(self, compiler, connection, **extra):
        return compiler.compile(self.source_expressions[0])


def grid(start: datetime, end: datetime, *, source_id: int | None = None, tvg_id: str | None = None) -> list[dict]:
    """Programmes of active sources that end after ``start`` and start before ``end``, ready for JSON (times as
    ISO 8601 strings, as DRF writes them): the grid is the hot read, so no serializer and no per-row converters."""
    qs = Programme.objects.filter(stop__gt=start, start__lt=end,
                                  channel__generation=F("channel__source__generation"),
                                  channel__source__is_active=True)
    qs = qs.exclude(channel__source__source_type=EPGSource.SourceType.DUMMY)
    if source_id is not None:
        qs = qs.filter(channel__source_id=source_id)
    if tvg_id is not None:
        qs = qs.filter(channel__tvg_id=tvg_id)
    rows = qs.order_by("channel__tvg_id", "start", "id").values_list(
        "id", UTCISO("start"), UTCISO("stop"), "title", "sub_title", "description", "channel__tvg_id", "season",
        "episode", "is_new", "is_live", "is_premiere", "is_finale")
    return [
        {"id": r[0], "start_time": r[1], "end_time": r[2], "title": r[3], "sub_title": r[4],
         "description": r[5], "tvg_id": r[6], "season": r[7], "episode": r[8], "is_new": r[9], "is_live": r[10],
         "is_premiere": r[11], "is_finale": r[12]}
        for r in rows
    ]


def output_channels() -> list[dict]:
    """One channel per tvg id across active sources: the one of the highest-priority source (then oldest)."""
    chosen: dict[str, dict] = {}
    qs = (EPGChannel.objects.current().filter(source__is_active=True)
          .exclude(source__source_type=EPGSource.SourceType.DUMMY)
          .order_by("-source__priority", "source_id", "id")
          .values("id", "tvg_id", "name", "display_names", "icon_url"))
    for ch in qs.iterator(chunk_size=5000):
        chosen.setdefault(ch["tvg_id"], ch)
    return sorted(chosen.values(), key=lambda c: c["tvg_id"])


def output_programmes(channel_ids: list[int], chunk: int = 500) -> Iterator[dict]:
    fields = ("title", "sub_title", "description", "categories", "episode_xmltv_ns",
              "episode_onscreen", "icon_url", "rating", "is_new", "is_live", "is_premiere", "is_finale")
    for i in range(0, len(channel_ids), chunk):
        ids = channel_ids[i:i + chunk]
        qs = (Programme.objects.filter(channel_id__in=ids, stop__isnull=False)
              .order_by("channel__tvg_id", "start", "id")
              .values(*fields, tvg_id=F("channel__tvg_id"), start_text=XMLTVTime("start"), stop_text=XMLTVTime("stop")))
        yield from qs.iterator(chunk_size=5000)


def guide_channel_names() -> Iterator[tuple[str, list[str]]]:
    """(tvg id, [name, display names ...]) of every channel served by an active guide source, for other apps
    that match their channels to the guide (``channels``)."""
    qs = (EPGChannel.objects.current().filter(source__is_active=True)
          .exclude(source__source_type=EPGSource.SourceType.DUMMY)
          .order_by("-source__priority", "source_id", "id").values_list("tvg_id", "name", "display_names"))
    for tvg_id, name, display_names in qs.iterator(chunk_size=5000):
        names = [name] if name else []
        names += [n for n in (display_names or []) if isinstance(n, str) and n not in names]
        yield tvg_id, names


def now_playing(tvg_ids, at: datetime | None = None) -> dict[str, dict]:
    """What is on now on each of these guide channels: tvg id -> {"title", "start", "end"} (ISO 8601 UTC)."""
    tvg_ids = [t for t in set(tvg_ids) if t]
    if not tvg_ids:
        return {}
    at = at or clock.now()
    rows = (Programme.objects.filter(channel__tvg_id__in=tvg_ids, start__lte=at, stop__gt=at,
                                     channel__generation=F("channel__source__generation"),
                                     channel__source__is_active=True)
            .order_by("-channel__source__priority", "channel__source_id", "start")
            .values_list("channel__tvg_id", "title", UTCISO("start"), UTCISO("stop")))
    found: dict[str, dict] = {}
    for tvg_id, title, start, stop in rows:
        found.setdefault(tvg_id, {"title": title, "start": start, "end": stop})
    return found
