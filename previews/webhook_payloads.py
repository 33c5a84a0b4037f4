"""Webhook payloads as Plex, Sonarr and Radarr document them (pure, no Django): what a webhook announces.

- Plex (multipart field ``payload``): ``{"event": "library.new", "Metadata": {"ratingKey", "type",
  "librarySectionID", "title", ...}}``; other events are acknowledged and ignored.
- Sonarr / Radarr ``Download`` (``isUpgrade`` for an upgrade): ``episodeFile`` / ``episodeFiles`` /
  ``movieFile`` with ``path`` (or the series / movie folder + ``relativePath``); ``Test`` and other events are
  acknowledged and ignored.
"""
from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field

ITEM_TYPES = ("movie", "episode")
CONTAINER_TYPES = ("show", "season")


class PayloadError(ValueError):
    """A webhook body that cannot be what the sender documents (the message says what is missing)."""


@dataclass
class Announcement:
    """What a webhook announces: files (Sonarr / Radarr) or one Plex item; or nothing to do (``ignored``)."""

    source: str
    event_type: str
    title: str = ""
    files: list[str] = field(default_factory=list)
    plex_id: str = ""
    plex_type: str = ""
    library_id: str = ""
    ignored: str = ""  # why nothing is done (another event type, a test)


# --- payloads (the senders' documented shapes) ------------------------------------------------------------

def _dict(value, what: str) -> dict:
    if not isinstance(value, dict):
        raise PayloadError(f"{what} must be a JSON object.")
    return value


def _str(value) -> str:
    """Text of a payload field (NUL characters dropped: the database cannot store them)."""
    text = value.strip() if isinstance(value, str) else ("" if value is None else str(value))
    return text.replace("\x00", "")


def _is_path(value: str) -> bool:
    """An absolute POSIX or Windows path (Sonarr and Radarr may run on Windows)."""
    return value.startswith("/") or value.startswith("\\\\") or (len(value) > 2 and value[1] == ":"
                                                                   and value[2] in "\\/")


def parse_plex(raw) -> Announcement:
    """Plex's multipart ``payload`` field: ``{"event": "library.new", "Metadata": {"ratingKey", "type",
    "librarySectionID", "title", ...}}``; every other event is acknowledged and ignored."""
    if raw in (None, ""):
        raise PayloadError("The multipart field 'payload' (Plex's webhook JSON) is missing.")
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    try:
        body = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as exc:
        raise PayloadError(f"The field 'payload' is not JSON: {exc}") from None
    body = _dict(body, "payload")
    event = _str(body.get("event"))
    if not event:
        raise PayloadError("payload has no 'event'.")
    if event != "library.new":
        return Announcement("plex", event, ignored=f"Plex event {event} needs no previews.")
    meta = _dict(body.get("Metadata"), "payload.Metadata")
    key = _str(meta.get("ratingKey"))
    if not key.isdigit():
        raise PayloadError("payload.Metadata.ratingKey (the new item's id) is missing or not a number.")
    kind = _str(meta.get("type"))
    if kind and kind not in ITEM_TYPES + CONTAINER_TYPES:
        return Announcement("plex", event, title=_str(meta.get("title")),
                            ignored=f"A new {kind} is not a video: nothing to do.")
    title = _str(meta.get("title"))
    if kind == "episode" and meta.get("grandparentTitle"):
        title = f"{_str(meta.get('grandparentTitle'))} - {title}"
    return Announcement("plex", event, title=title[:500], plex_id=key, plex_type=kind,
                        library_id=_str(meta.get("librarySectionID")))


def _file_path(file: dict, folder: str, what: str) -> str:
    raw = file.get("path")
    if raw is not None and not isinstance(raw, str):
        raise PayloadError(f"{what}.path must be a string.")
    path = _str(raw)
    relative = file.get("relativePath")
    if not path and isinstance(relative, str) and relative.strip() and folder:
        path = posixpath.join(folder, _str(relative))
    if not path:
        raise PayloadError(f"{what} has no 'path' (nor a 'relativePath' with the folder).")
    if "\x00" in str(raw or "") or not _is_path(path) or len(path) > 4000:
        raise PayloadError(f"{what}.path must be an absolute path, not {path[:200]!r}.")
    return path


def parse_sonarr(body) -> Announcement:
    """Sonarr's ``Download`` (``isUpgrade`` for an upgrade): ``series.path`` and ``episodeFile.path`` (or
    ``relativePath``), or ``episodeFiles`` for a season pack; ``Test`` and other events are acknowledged."""
    body = _dict(body, "The body")
    event = _str(body.get("eventType"))
    if not event:
        raise PayloadError("eventType is missing.")
    if event != "Download":
        return Announcement("sonarr", event, ignored=f"Sonarr event {event} needs no previews.")
    series = _dict(body.get("series") or {}, "series")
    files = body.get("episodeFiles") or ([body["episodeFile"]] if body.get("episodeFile") else [])
    if not isinstance(files, list) or not files:
        raise PayloadError("A Download event needs episodeFile (the imported file).")
    paths_ = [_file_path(_dict(f, "episodeFile"), _str(series.get("path")), "episodeFile") for f in files]
    episodes = body.get("episodes") if isinstance(body.get("episodes"), list) else []
    title = _str(series.get("title"))
    if episodes and isinstance(episodes[0], dict):
        first = episodes[0]
        code = f"S{_int(first.get('seasonNumber')):02d}E{_int(first.get('episodeNumber')):02d}"
        title = f"{title} {code} - {_str(first.get('title'))}".strip()
    return Announcement("sonarr", "Download" + (" (upgrade)" if body.get("isUpgrade") else ""),
                        title=title[:500], files=paths_)


def parse_radarr(body) -> Announcement:
    """Radarr's ``Download`` (``isUpgrade`` for an upgrade): ``movie.folderPath`` and ``movieFile.path`` (or
    ``relativePath``); ``Test`` and other events are acknowledged."""
    body = _dict(body, "The body")
    event = _str(body.get("eventType"))
    if not event:
        raise PayloadError("eventType is missing.")
    if event != "Download":
        return Announcement("radarr", event, ignored=f"Radarr event {event} needs no previews.")
    movie = _dict(body.get("movie") or {}, "movie")
    file = body.get("movieFile")
    if not file:
        raise PayloadError("A Download event needs movieFile (the imported file).")
    path = _file_path(_dict(file, "movieFile"), _str(movie.get("folderPath") or movie.get("path")), "movieFile")
    title = _str(movie.get("title"))
    if movie.get("year"):
        title = f"{title} ({_str(movie.get('year'))})"
    return Announcement("radarr", "Download" + (" (upgrade)" if body.get("isUpgrade") else ""),
                        title=title[:500], files=[path])


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
