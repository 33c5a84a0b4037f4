"""Reads of the epg app, for the API, the admin, the output and other apps (``channels`` may use these)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterator

from django.db.models import F
from django.utils import timezone

from .models import EPGChannel, EPGSource, Programme

GRID_FIELDS = ("id", "start_time", "end_time", "title", "sub_title", "description", "tvg_id", "season", "episode",
               "is_new", "is_live", "is_premiere", "is_finale")


def sources():
    return EPGSource.objects.all()


def served_channels(*, source_id: int | None = None, tvg_id: str | None = None):
    """Guide channels being served (current generation of each source), as Dispatcharr's EPGData rows."""
    qs = EPGChannel.objects.current()
    if source_id is not None:
        qs = qs.filter(source_id=source_id)
    if tvg_id is not None:
        qs = qs.filter(tvg_id=tvg_id)
    return qs.order_by("id").values("id", "tvg_id", "name", "icon_url", epg_source=F("source_id"))


def grid_window(now: datetime | None = None) -> tuple[datetime, datetime]:
    now = now or timezone.now()
    return now - timedelta(hours=1), now + timedelta(hours=24)


def grid(start: datetime, end: datetime, *, source_id: int | None = None, tvg_id: str | None = None) -> list[dict]:
    """Programmes of active sources that end after ``start`` and start before ``end``."""
    qs = (Programme.objects.filter(stop__gt=start, start__lt=end, channel__generation=F("channel__source__generation"),
                                   channel__source__is_active=True))
    if source_id is not None:
        qs = qs.filter(channel__source_id=source_id)
    if tvg_id is not None:
        qs = qs.filter(channel__tvg_id=tvg_id)
    return list(
        qs.order_by("channel__tvg_id", "start", "id").values(
            "id", "title", "sub_title", "description", "season", "episode", "is_new", "is_live", "is_premiere",
            "is_finale", start_time=F("start"), end_time=F("stop"), tvg_id=F("channel__tvg_id"))
    )


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
    fields = ("start", "stop", "title", "sub_title", "description", "categories", "episode_xmltv_ns",
              "episode_onscreen", "icon_url", "rating", "is_new", "is_live", "is_premiere", "is_finale")
    for i in range(0, len(channel_ids), chunk):
        ids = channel_ids[i:i + chunk]
        qs = (Programme.objects.filter(channel_id__in=ids, stop__isnull=False)
              .order_by("channel__tvg_id", "start", "id").values(*fields, tvg_id=F("channel__tvg_id")))
        yield from qs.iterator(chunk_size=5000)
