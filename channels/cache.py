"""The original backend's JSON cache, ``{"timestamp", "host", "channel_count", "channels": [...]}``: export a
provider's catalogue to it, and import one into a provider. An import is validated whole before anything is
written (a malformed payload is refused with a message naming the first bad field, and nothing changes); it is
then swapped in like a refresh, in one transaction, under the provider's refresh claim."""
from __future__ import annotations

import json
import tempfile
from datetime import datetime
from typing import IO

from django.db import transaction
from django.db.models import F

from homelab import clock

from . import catalogue, parsers, services
from .models import Channel, Provider

CHANNEL_FIELDS = {"id": (int, type(None)), "name": (str,), "group": (str,), "category": (str,), "logo": (str,),
                  "tvg_id": (str,), "tvg_name": (str,), "stream_url": (str,), "stream_type": (str,),
                  "provider": (str,), "catchup_days": (int, type(None)), "epg_channel_id": (str, type(None)),
                  "epg_match": (str, type(None))}
REQUIRED = ("name", "stream_url")
TOP = ("timestamp", "host", "channel_count", "channels")


class CacheError(ValueError):
    pass


def export(provider: Provider, out: IO[str]) -> int:
    """Write the provider's catalogue as the cache schema, one channel at a time; returns the count."""
    rows = (Channel.objects.filter(provider=provider).order_by("position")
            .values_list("id", "name", "group_title", "category", "logo", "tvg_id", "tvg_name", "stream_url",
                         "stream_type", "catchup_days", "epg_channel_id", "epg_match"))
    count = rows.count()
    stamp = (provider.refreshed_at or clock.now()).isoformat()
    out.write('{"timestamp": %s, "host": %s, "channel_count": %d, "channels": [' % (
        json.dumps(stamp), json.dumps(provider.host), count))
    for i, r in enumerate(rows.iterator(chunk_size=5000)):
        item = {"id": r[0], "name": r[1], "group": r[2], "category": r[3], "logo": r[4], "tvg_id": r[5],
                "tvg_name": r[6], "stream_url": r[7], "stream_type": r[8], "provider": provider.name,
                "catchup_days": r[9], "epg_channel_id": r[10] or None, "epg_match": r[11] or None}
        out.write(("," if i else "") + "\n  " + json.dumps(item, ensure_ascii=False))
    out.write("\n]}\n")
    return count


def validate(payload) -> datetime:
    """Raise CacheError naming the first bad field; returns the timestamp."""
    if not isinstance(payload, dict):
        raise CacheError("The cache must be a JSON object with timestamp, host, channel_count and channels.")
    for key in TOP:
        if key not in payload:
            raise CacheError(f"{key}: missing")
    for key in payload:
        if key not in TOP:
            raise CacheError(f"{key}: unknown field")
    try:
        stamp = datetime.fromisoformat(payload["timestamp"]) if isinstance(payload["timestamp"], str) else None
    except ValueError:
        stamp = None
    if stamp is None or stamp.tzinfo is None:
        raise CacheError("timestamp: not an ISO 8601 date-time with a time zone")
    if not isinstance(payload["host"], str):
        raise CacheError("host: not a string")
    count, items = payload["channel_count"], payload["channels"]
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise CacheError("channel_count: not a non-negative integer")
    if not isinstance(items, list):
        raise CacheError("channels: not a list")
    if count != len(items):
        raise CacheError(f"channel_count: {count}, but channels has {len(items)} items")
    for i, item in enumerate(items):
        where = f"channels[{i}]"
        if not isinstance(item, dict):
            raise CacheError(f"{where}: not an object")
        for key in REQUIRED:
            if key not in item:
                raise CacheError(f"{where}.{key}: missing")
        for key, value in item.items():
            types = CHANNEL_FIELDS.get(key)
            if types is None:
                raise CacheError(f"{where}.{key}: unknown field")
            if not isinstance(value, types) or isinstance(value, bool):
                raise CacheError(f"{where}.{key}: wrong type ({type(value).__name__})")
        days = item.get("catchup_days")
        if days is not None and not 0 <= days <= parsers.MAX_DAYS:
            raise CacheError(f"{where}.catchup_days: out of range (0 to {parsers.MAX_DAYS}, or null)")
        if not item["name"].strip():
            raise CacheError(f"{where}.name: empty")
        if "://" not in item["stream_url"] or any(c in item["stream_url"] for c in "\r\n\x00"):
            raise CacheError(f"{where}.stream_url: not a URL")
        if "category" in item and item["category"] not in parsers.CATEGORIES:
            raise CacheError(f"{where}.category: not one of {', '.join(parsers.CATEGORIES)}")
        if item.get("stream_type", "") not in ("", *parsers.KINDS):
            raise CacheError(f"{where}.stream_type: not one of live, movie, series or empty")
        for key in ("name", "group", "logo", "tvg_id", "tvg_name"):
            if any(c in item.get(key, "") for c in "\r\n\x00"):
                raise CacheError(f"{where}.{key}: contains a line break or NUL")
    return stamp


def _entry(item: dict) -> parsers.Entry:
    url = item["stream_url"]
    kind, stream_id = parsers.stream_kind(url.partition("|")[0])
    return parsers.Entry(name=item["name"].strip(), url=url, tvg_id=item.get("tvg_id", ""),
                         tvg_name=item.get("tvg_name", ""), logo=item.get("logo", ""), group=item.get("group", ""),
                         catchup_days=item.get("catchup_days"), kind=item.get("stream_type") or kind,
                         stream_id=stream_id)


def import_(provider: Provider, payload) -> dict:
    """Validate, then swap the payload in as the provider's catalogue. CacheError when it is malformed or a
    refresh is running; nothing changes then."""
    stamp = validate(payload)
    token = services.claim_refresh(provider.pk, "Importing a cache file.")
    if token is None:
        raise CacheError("A refresh of this provider is running; try again when it has ended.")
    try:
        guide = services.guide_index()
        with tempfile.TemporaryFile(dir=services.workdir()) as spool:
            differ = catalogue.Differ(provider.pk, spool)
            position = 0
            for item in payload["channels"]:
                row = catalogue.build_row(provider.pk, position, _entry(item), None, guide,
                                          category=item.get("category"))
                if differ.add(row):
                    position += 1
            gone = differ.finish()
            counts = differ.counts
            message = (f"Imported a cache file: {counts['total']} channels ({counts['new']} new, "
                       f"{counts['changed']} changed, {counts['removed']} removed)")
            with transaction.atomic():
                catalogue.lock_providers([provider.pk])
                catalogue.apply(provider.pk, spool, gone)
                Provider.objects.filter(pk=provider.pk, run_token=token).update(
                    status=Provider.Status.SUCCESS, progress=100, refreshed_at=stamp, channel_count=counts["total"],
                    last_message=message, last_error="", run_token="", row_context=0,  # the next refresh reads all
                    generation=F("generation") + 1)
        return counts
    finally:
        Provider.objects.filter(pk=provider.pk, run_token=token).update(
            status=Provider.Status.ERROR, last_message="The cache import stopped; the previous catalogue is kept.",
            run_token="")

