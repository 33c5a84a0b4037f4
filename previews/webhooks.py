"""New media without waiting for a schedule: Plex (``library.new``), Sonarr and Radarr (``Download``, also
upgrades) announce a file; it is found in Plex and a one-item job makes its BIF.

- Plex names its item (``Metadata.ratingKey``); Sonarr and Radarr name a file, which is found in Plex by path:
  the path as sent, and the path mapped back from this machine's prefix to Plex's (the reverse of
  ``plex_local_videos_path_mapping`` -> ``plex_videos_path_mapping``), matched against the Part files of the
  movie and show libraries whose folders hold it.
- Plex indexes a new file some time after the download finished: an event not found yet is tried again after
  30 s, then 2, 5, 15 and 60 minutes (``RETRY_DELAYS``, Celery countdowns; ``next_attempt_at`` on the row is
  on ``homelab.clock``); after the last try it fails saying what was looked for.
- The job lists only that item (``Job`` + its ``JobItem`` rows, as ``previews.planning`` makes them) and its
  items go to the workers like any other job's.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from homelab import clock, events

from . import paths
from .clients import PlexError, PlexServer
from .models import Job, JobItem, PreviewSettings, WebhookEvent
from .planning import _item_row
from .progress import finish_if_done, progress_data
from .services import EVENTS_CHANNEL
from .webhook_payloads import (CONTAINER_TYPES, Announcement, PayloadError, parse_plex,  # noqa: F401
                               parse_radarr, parse_sonarr)

logger = logging.getLogger("previews.webhooks")
RETRY_DELAYS = (30, 120, 300, 900, 3600)
EPISODE_TYPE = 4


def record(announcement: Announcement) -> list[WebhookEvent]:
    """One row per file (or one for a Plex item), waiting for its first try."""
    if announcement.ignored:
        return []
    common = {"source": announcement.source, "event_type": announcement.event_type[:50],
              "title": announcement.title, "plex_type": announcement.plex_type[:20],
              "library_id": announcement.library_id[:50]}
    if announcement.plex_id:
        rows = [WebhookEvent.objects.create(plex_id=announcement.plex_id, **common)]
    else:
        rows = [WebhookEvent.objects.create(file_path=path, **common) for path in announcement.files]
    for row in rows:
        logger.info("Webhook %s from %s: %s", row.pk, row.source, row.file_path or f"Plex item {row.plex_id}")
    return rows


# --- finding the file in Plex ------------------------------------------------------------------------------

def plex_candidates(path: str, pairs: list[tuple[str, str]]) -> list[str]:
    """The Plex paths a file may have: as sent, and mapped back from a local prefix to its Plex prefix."""
    reverse = [(local, plex) for plex, local in pairs]
    found = [path]
    mapped = paths.map_path(path, reverse)
    if mapped != path:
        found.append(mapped)
    return found


def _libraries(server: PlexServer) -> list[dict]:
    """The movie and show libraries with their folders (``Location path``)."""
    root = server._xml("/library/sections")
    return [{"id": d.get("key", ""), "name": d.get("title", ""), "type": d.get("type", ""),
             "folders": [loc.get("path", "") for loc in d.iter("Location") if loc.get("path")]}
            for d in root.iter("Directory") if d.get("type") in ("movie", "show")]


def _under(path: str, folder: str) -> bool:
    folder = folder.rstrip("/\\")
    return path == folder or path.startswith(folder + "/") or path.startswith(folder + "\\")


def find_by_path(server: PlexServer, candidates: list[str]):
    """``(library, rating key, title, file)`` of the item whose Part is one of ``candidates``, or None."""
    libraries = _libraries(server)
    # libraries whose folders hold the file first, then the others (a folder Plex reports may be a symlink's)
    likely = [lib for lib in libraries if any(_under(c, f) for c in candidates for f in lib["folders"])]
    rest = [lib for lib in libraries if lib not in likely]
    wanted = set(candidates)
    for library in likely + rest:
        params = {"type": EPISODE_TYPE} if library["type"] == "show" else None
        root = server._xml(f"/library/sections/{library['id']}/all", params)
        for video in root.iter("Video"):
            for part in video.iter("Part"):
                if part.get("file") in wanted and video.get("ratingKey"):
                    from .clients import _title

                    return library, video.get("ratingKey"), _title(video), part.get("file")
    return None


@dataclass
class Step:
    status: str                    # queued | waiting | failed | gone | early
    item_ids: list[int] = field(default_factory=list)
    retry_in: float | None = None  # seconds until the next try


def _wait_or_fail(event: WebhookEvent, reason: str) -> Step:
    if event.attempts <= len(RETRY_DELAYS):
        delay = RETRY_DELAYS[event.attempts - 1]
        event.status, event.next_attempt_at = WebhookEvent.Status.WAITING, clock.now() + timedelta(seconds=delay)
        event.message = f"{reason} Trying again in {_human(delay)} (try {event.attempts} of {len(RETRY_DELAYS) + 1})."
        event.save(update_fields=["status", "next_attempt_at", "message", "attempts", "updated_at"])
        logger.info("Webhook %s: %s", event.pk, event.message)
        return Step("waiting", retry_in=delay)
    total = sum(RETRY_DELAYS)
    event.status, event.next_attempt_at = WebhookEvent.Status.FAILED, None
    event.message = (f"{reason} Gave up after {event.attempts} tries over {_human(total)}: check that the file is in "
                     "a Plex library (Plex scans it) and the path mapping (plex_videos_path_mapping -> "
                     "plex_local_videos_path_mapping).")
    event.save(update_fields=["status", "next_attempt_at", "message", "attempts", "updated_at"])
    logger.warning("Webhook %s failed: %s", event.pk, event.message)
    return Step("failed")


def _human(seconds: float) -> str:
    return f"{int(seconds)} s" if seconds < 120 else f"{int(seconds // 60)} min"


def resolve(event_id: int) -> Step:
    """One try: the item found in Plex -> a one-item job (its item ids to queue); else wait or fail."""
    event = WebhookEvent.objects.select_for_update().filter(pk=event_id).first()
    if event is None or event.status != WebhookEvent.Status.WAITING:
        return Step("gone")
    if event.next_attempt_at and clock.now() < event.next_attempt_at - timedelta(seconds=1):
        return Step("early")  # a duplicate delivery before its time
    event.attempts += 1
    conf = PreviewSettings.load()
    try:
        pairs = paths.mapping_pairs(conf.plex_videos_path_mapping, conf.plex_local_videos_path_mapping)
        server = PlexServer.for_service(conf.plex_service)
        if event.plex_id:
            found = _by_rating_key(server, event)
            what = f"Plex item {event.plex_id}"
        else:
            candidates = plex_candidates(event.file_path, pairs)
            hit = find_by_path(server, candidates)
            found = None
            if hit is not None:
                library, key, title, file = hit
                parts = [p for p in server.parts(key, title) if p.file == file]
                found = (library["id"], library["name"], parts)
            what = "No Plex item has the file " + " or ".join(candidates) + "."
    except paths.MappingError as exc:
        return _fail(event, str(exc))
    except PlexError as exc:
        if exc.missing:
            return _fail(event, exc.reason)
        return _wait_or_fail(event, f"Plex could not be asked: {exc.reason}")
    if not found or not found[2]:
        return _wait_or_fail(event, what if event.file_path else f"{what} is not in Plex (yet).")
    library_id, library_name, parts = found
    if not conf.plex_config_folder:
        return _fail(event, "plex_config_folder is not set: the BIFs go under Plex's data folder.")
    job, item_ids = item_job(library_id, library_name, parts, pairs, conf.plex_config_folder)
    event.status, event.job, event.next_attempt_at = WebhookEvent.Status.QUEUED, job, None
    event.plex_id = event.plex_id or parts[0].plex_id
    event.library_id, event.library_name = library_id[:50], library_name[:200]
    event.message = f"Job {job.pk} started for {', '.join(p.file for p in parts)}."
    event.save()
    logger.info("Webhook %s: %s", event.pk, event.message)
    return Step("queued", item_ids=item_ids)


def _fail(event: WebhookEvent, message: str) -> Step:
    event.status, event.message, event.next_attempt_at = WebhookEvent.Status.FAILED, message, None
    event.save(update_fields=["status", "message", "next_attempt_at", "attempts", "updated_at"])
    logger.warning("Webhook %s failed: %s", event.pk, message)
    return Step("failed")


def _by_rating_key(server: PlexServer, event: WebhookEvent):
    """(library id, name, parts) of a Plex item; a show or season stands for its episodes."""
    if event.plex_type in CONTAINER_TYPES:
        try:
            root = server._xml(f"/library/metadata/{event.plex_id}/allLeaves")
        except PlexError as exc:
            if exc.status == 404:
                return None
            raise
        from .clients import _title

        items = [(v.get("ratingKey"), _title(v)) for v in root.iter("Video") if v.get("ratingKey")]
    else:
        items = [(event.plex_id, event.title)]
    parts = []
    for key, title in items:
        try:
            parts += server.parts(key, title)
        except PlexError as exc:
            if exc.status == 404:
                continue
            raise
    if not parts:
        return None
    library_id = event.library_id
    library = server.library(library_id) if library_id else None
    return library_id or "?", (library or {}).get("name", ""), parts


def item_job(library_id: str, library_name: str, parts, pairs, config_folder: str) -> tuple[Job, list[int]]:
    """A running job of just these parts (skipped when the BIF exists, failed when the file is missing)."""
    now = clock.now()
    job = Job.objects.create(library_id=library_id[:50], library_name=library_name[:200],
                             status=Job.Status.RUNNING, created_at=now, started_at=now, heartbeat_at=now)
    JobItem.objects.bulk_create([_item_row(job.pk, part, pairs, config_folder) for part in parts],
                                ignore_conflicts=True)
    job = finish_if_done(job.pk)
    events.publish(EVENTS_CHANNEL, "job_progress", progress_data(job, None))
    logger.info("Job %s: one-item job for %s", job.pk, ", ".join(p.file for p in parts))
    return job, list(JobItem.objects.filter(job_id=job.pk, status=JobItem.Status.PENDING).values_list("pk", flat=True))


# --- the path check -------------------------------------------------------------------------------------------

def path_check(server: PlexServer, library: dict, conf: PreviewSettings, limit: int) -> dict:
    """A few items of a library: Plex's path, the mapped local path, and whether that file exists here."""
    import os

    pairs = paths.mapping_pairs(conf.plex_videos_path_mapping, conf.plex_local_videos_path_mapping)
    params = {"type": EPISODE_TYPE} if library["type"] == "show" else {}
    params.update({"X-Plex-Container-Start": 0, "X-Plex-Container-Size": limit})
    root = server._xml(f"/library/sections/{library['id']}/all", params)
    items = []
    from .clients import _title

    for video in root.iter("Video"):
        for part in video.iter("Part"):
            file = part.get("file")
            if not file:
                continue
            local = paths.map_path(file, pairs)
            items.append({"title": _title(video), "plex_path": file, "local_path": local,
                          "exists": os.path.isfile(local)})
        if len(items) >= limit:
            break
    items = items[:limit]
    found = sum(1 for i in items if i["exists"])
    if not items:
        message = "The library lists no video files."
    elif found == len(items):
        message = f"All {found} file(s) checked exist here."
    elif not pairs:
        message = (f"{len(items) - found} of {len(items)} file(s) do not exist here and no path mapping is set: set "
                   "plex_videos_path_mapping (Plex's prefix) and plex_local_videos_path_mapping (this machine's).")
    else:
        message = (f"{len(items) - found} of {len(items)} file(s) do not exist here after mapping: check "
                   "plex_videos_path_mapping and plex_local_videos_path_mapping.")
    return {"library_id": library["id"], "library_name": library["name"],
            "mapping": [{"plex": p, "local": lo} for p, lo in pairs], "items": items, "message": message}
