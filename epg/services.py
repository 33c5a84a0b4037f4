"""Writes of the epg app: requesting and running guide imports, the refresh schedule, the XMLTV output.

An import (``run_import``) follows DESIGN.md's job rules: the row is claimed with a conditional UPDATE
(``request_refresh``; ``epg.tasks`` queues the import after commit: services never import tasks, they return
what to queue), the file is downloaded through ``homelab.http`` with a size cap, parsed as a stream and
written in batches as a new generation of the source's channels; the swap to that generation, the counts and
``updated_at`` are one transaction. Whatever happens, the row ends in ``success`` or ``error`` in ``finally``. A running import
touches ``heartbeat_at`` (``homelab.jobs.Heartbeat``) with its progress writes; the job sweep frees the claim of
one lost with its worker.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max

from homelab import clock, events, http, jobs
from homelab.jobs import RetryLater

from . import parsers
from .models import EPGChannel, EPGSource, Programme

logger = logging.getLogger("epg.import")

OUTPUT_FILENAME = "epg.xml"
DOWNLOAD_CHECK_BYTES = 4 << 20  # a download reports its progress (and sees a deleted source) this often
EVENTS_CHANNEL = "epg"
Status = EPGSource.Status


class RefreshRefused(Exception):
    """The source cannot be refreshed (dummy, inactive); the message is for the user."""


class ImportAborted(Exception):
    """The claim is gone under a running import (the source was deleted, or its stuck claim swept and taken)."""

    def __init__(self):
        super().__init__("The source was deleted or re-claimed during the import.")


# --- requesting a refresh ----------------------------------------------------------------------


def request_refresh(source: EPGSource) -> str | None:
    """Claim the source for an import; returns the claim's token, for ``epg.tasks`` to queue the import with
    after commit, or None when an import is already running (nothing new is started). Raises RefreshRefused
    for sources that are never refreshed. The claim has no heartbeat until a worker starts the job."""
    if source.source_type == EPGSource.SourceType.DUMMY:
        raise RefreshRefused("Dummy EPG sources do not require refreshing.")
    if not source.is_active:
        raise RefreshRefused("EPG source is not active.")
    token = uuid.uuid4().hex
    claimed = jobs.claim(EPGSource, source.pk, running=EPGSource.RUNNING, to=Status.FETCHING, heartbeat=False,
                         run_token=token, status_changed_at=clock.now(), progress=0,
                         last_message="Queued for refresh.")
    if not claimed:
        logger.info("EPG source %s (%s): an import is already running; nothing new started", source.pk, source.name)
        return None
    _publish(source.pk, Status.FETCHING, 0, "Queued for refresh.")
    return token


def queue_failed(source_id: int, token: str, exc: BaseException) -> None:
    """The import could not be queued (broker down): say so on the row instead of leaving it "fetching"."""
    logger.error("Could not queue the import of EPG source %s: %s", source_id, exc)
    EPGSource.objects.filter(pk=source_id, run_token=token).update(
        status=Status.ERROR, status_changed_at=clock.now(),
        last_message=f"Could not queue the import (task broker unavailable: {type(exc).__name__}).")


def claim_due(source_id: int) -> str | None:
    """The periodic refresh (beat): claim the source to run its import in this worker at once; the token, or
    None when it is running, gone, a dummy or inactive."""
    source = EPGSource.objects.filter(pk=source_id).first()
    if source is None or source.source_type == EPGSource.SourceType.DUMMY or not source.is_active:
        return None
    token = uuid.uuid4().hex
    if jobs.claim(EPGSource, source_id, running=EPGSource.RUNNING, to=Status.FETCHING, run_token=token,
                  status_changed_at=clock.now(), progress=0, last_message="Scheduled refresh."):
        return token
    return None


# --- running an import -------------------------------------------------------------------------


class _Progress:
    """Writes percent and message to the row (and publishes them) at most every half second or 2 %, with the
    heartbeat; between two such writes, ``beat()`` touches the heartbeat every JOB_HEARTBEAT_INTERVAL seconds.
    Raises ImportAborted once the claim is gone (the source deleted, or the claim swept)."""

    def __init__(self, source_id: int, token: str):
        self.source_id, self.token = source_id, token
        self.last_percent, self.last_time = -1, 0.0
        self.heartbeat = jobs.Heartbeat(EPGSource, source_id, run_token=token)

    def __call__(self, status: str, percent: int, message: str, force: bool = False):
        now = clock.monotonic()
        if not force and percent - self.last_percent < 2 and now - self.last_time < 0.5:
            self.beat()
            return
        self.last_percent, self.last_time = percent, now
        if not self.heartbeat(status=status, progress=max(0, min(100, percent)), last_message=message):
            raise ImportAborted()
        _publish(self.source_id, status, percent, message)

    def beat(self):
        if not self.heartbeat():
            raise ImportAborted()


def _publish(source_id, status, percent, message):
    events.publish(EVENTS_CHANNEL, "epg_refresh",
                   {"source": source_id, "status": str(status), "progress": percent, "message": message})


def run_import(source_id: int, token: str, *, may_retry: bool = False) -> str | None:
    """Import the guide of a claimed source. Returns the final status (None when the row is gone or the
    claim is not ours). With ``may_retry``, a temporary download failure (timeout, refused, 5xx, 429:
    ``homelab.http.is_temporary``) raises ``homelab.jobs.RetryLater`` and leaves the row claimed ("fetching", the reason in ``last_message``) for the task to retry."""
    source = EPGSource.objects.filter(pk=source_id, run_token=token).first()
    if source is None:
        logger.info("EPG source %s: no claim %s on it (gone or superseded); nothing to do", source_id, token)
        return None
    if source.status not in EPGSource.RUNNING:
        logger.info("EPG source %s: claim %s already finished", source_id, token)
        return None
    started = clock.monotonic()
    progress = _Progress(source_id, token)
    new_generation = None
    staged: dict[str, int] = {}  # tvg id -> id of the channels this import wrote
    final_status, message = Status.ERROR, "The import stopped unexpectedly."
    tmp_path = None
    try:
        progress.heartbeat(force=True)  # started: from here on the sweep watches the heartbeat
        _drop_stale_generations(source)
        if source.source_type == EPGSource.SourceType.URL:
            progress(Status.FETCHING, 0, f"Downloading {http.redact_url(source.url)}", force=True)
            tmp_path = _download(source, progress)
            path = tmp_path
        else:
            path = source.local_path()
            if not path.is_file():
                raise parsers.GuideError(f"The file {path.name} does not exist.")
        progress(Status.PARSING, 0, "Parsing the guide.", force=True)
        new_generation = _next_generation(source)
        counts = _load(source, new_generation, path, progress, staged)
        message = (f"Imported {counts['channels']} channels and {counts['programmes']} programmes "
                   f"in {clock.monotonic() - started:.1f} s.")
        if counts["skipped"]:
            message += f" Skipped {counts['skipped']} programmes without a channel or a readable start time."
        _swap(source, new_generation, token, counts, message)
        final_status = Status.SUCCESS
        logger.info("EPG source %s (%s): %s", source.pk, source.name, message)
        return final_status
    except (parsers.GuideError, ImportAborted) as exc:
        message = str(exc)
    except http.HTTPError as exc:
        message = f"Download failed: {exc.message}"
        if may_retry and not exc.permanent and http.is_temporary(exc.status):
            final_status = "retry"
            message += " (temporary; retrying)"
            # waiting for the retry is like waiting in the queue: no heartbeat (the sweep would free the claim)
            EPGSource.objects.filter(pk=source_id, run_token=token).update(progress=0, last_message=message,
                                                                            heartbeat_at=None)
            logger.warning("EPG source %s (%s): %s", source.pk, source.name, message)
            raise RetryLater(message) from None
    except OSError as exc:
        message = f"Could not read the guide: {exc.strerror or exc}"
    except Exception as exc:
        try:
            gone = not EPGSource.objects.filter(pk=source_id, run_token=token).exists()
        except Exception:
            gone = False
        if gone:
            message = str(ImportAborted())  # e.g. the channels' foreign key, once the source is deleted
        else:
            logger.exception("EPG source %s: import failed", source_id)
            message = f"Import failed: {type(exc).__name__}: {exc}"[:1000]
    finally:
        if tmp_path:
            try:
                os.unlink(tmp_path)
            except OSError:
                pass
        if final_status == "retry":
            pass
        elif final_status != Status.SUCCESS:
            logger.warning("EPG source %s (%s): import failed: %s", source.pk, source.name, message)
            if new_generation is not None:
                _drop_generation(source.pk, new_generation, staged.values())
            EPGSource.objects.filter(pk=source_id, run_token=token).update(
                status=Status.ERROR, status_changed_at=clock.now(), progress=0, last_message=message)
            _publish(source_id, Status.ERROR, 0, message)
        else:
            _publish(source_id, Status.SUCCESS, 100, message)
    return final_status


class _DownloadFile:
    """The download's file: every DOWNLOAD_CHECK_BYTES, the byte count goes to the row as progress (which
    raises ImportAborted once the source is deleted, so a deleted source's guide is not fetched to the end)."""

    def __init__(self, fh, progress, where: str):
        self.fh, self.progress, self.where = fh, progress, where
        self.size = 0
        self.next_check = DOWNLOAD_CHECK_BYTES

    def write(self, data) -> int:
        n = self.fh.write(data)
        self.size += len(data)
        if self.progress is not None:
            self.progress.beat()
        if self.progress is not None and self.size >= self.next_check:
            self.next_check = self.size + DOWNLOAD_CHECK_BYTES
            self.progress(Status.FETCHING, 0, f"Downloading {self.where}: {self.size / (1 << 20):.1f} MB",
                          force=True)
        return n


def _download(source: EPGSource, progress=None) -> str:
    tmp_dir = jobs.tmp_dir()  # what a killed worker leaves there, the job sweep removes
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix=f"epg-{source.pk}-", suffix=".download", dir=tmp_dir)
    try:
        with os.fdopen(fd, "wb") as fh:
            timeout = (settings.HTTP_CONNECT_TIMEOUT, max(settings.HTTP_READ_TIMEOUT, 60.0))
            http.download(source.url, _DownloadFile(fh, progress, http.redact_url(source.url)),
                          max_bytes=settings.EPG_MAX_DOWNLOAD_BYTES, timeout=timeout, headers={"Accept-Encoding": "identity"})
    except BaseException:
        os.unlink(tmp_path)
        raise
    return tmp_path


def _next_generation(source: EPGSource) -> int:
    top = EPGChannel.objects.filter(source=source).aggregate(m=Max("generation"))["m"] or 0
    return max(top, source.generation) + 1


def _drop_generation(source_id: int, generation: int, channel_ids=()) -> None:
    """Delete a generation's channels and programmes; ``channel_ids`` (those an import wrote) also reach the
    programmes of channels already deleted under it (the source was deleted mid-import)."""
    staged = EPGChannel.objects.filter(source_id=source_id, generation=generation).values("id")
    with transaction.atomic():
        Programme.objects.filter(channel_id__in=staged)._raw_delete(Programme.objects.db)
        EPGChannel.objects.filter(source_id=source_id, generation=generation)._raw_delete(EPGChannel.objects.db)
        ids = list(channel_ids)
        for i in range(0, len(ids), 500):
            Programme.objects.filter(channel_id__in=ids[i:i + 500])._raw_delete(Programme.objects.db)


def _drop_stale_generations(source: EPGSource, *, older_only: bool = False) -> None:
    """Remove generations other than the served one (left by a swap, or by a worker that died mid-import).
    ``older_only``: only those before the served one; newer ones may be a running import's staging (an import
    drops all of them itself when it starts, under its claim)."""
    stale = EPGChannel.objects.filter(source_id=source.pk).exclude(generation=source.generation)
    if older_only:
        stale = stale.filter(generation__lt=source.generation)
    stale = stale.values_list("generation", flat=True).distinct()
    for generation in list(stale):
        _drop_generation(source.pk, generation)


class _BatchWriter:
    """Writes staged channels and programmes in batches: COPY on PostgreSQL (psycopg 3), executemany else."""

    PROGRAMME_COLUMNS = ["channel_id", "start", "stop", "title", "sub_title", "description", "categories",
                         "episode_xmltv_ns", "episode_onscreen", "season", "episode", "icon_url", "rating",
                         "is_new", "is_live", "is_premiere", "is_finale"]

    def __init__(self, source: EPGSource, generation: int, batch_size: int, channel_ids: dict | None = None):
        self.source, self.generation, self.batch_size = source, generation, batch_size
        self.channel_ids: dict[str, int] = channel_ids if channel_ids is not None else {}
        self.pending_channels: dict[str, parsers.Channel] = {}
        self.late_channels: dict[str, parsers.Channel] = {}
        self.placeholders: set[str] = set()
        self.last_start: dict[str, object] = {}
        self.missing_stop = False
        self.out_of_order = False
        self.rows: list[tuple] = []
        self.programmes = 0
        self.postgres = connection.vendor == "postgresql"
        self.ops = connection.ops
        self.table = Programme._meta.db_table
        qn = connection.ops.quote_name
        cols = ", ".join(qn(c) for c in self.PROGRAMME_COLUMNS)
        self.copy_sql = f"COPY {qn(self.table)} ({cols}) FROM STDIN"
        self.insert_sql = (f"INSERT INTO {qn(self.table)} ({cols}) VALUES "
                           f"({', '.join(['%s'] * len(self.PROGRAMME_COLUMNS))})")

    def channel(self, ch: parsers.Channel):
        tvg_id = ch.tvg_id
        if tvg_id in self.placeholders:
            # declared after its first programme: the placeholder row takes this declaration
            self.placeholders.discard(tvg_id)
            if tvg_id in self.pending_channels:
                self.pending_channels[tvg_id] = ch
            else:
                self.late_channels[tvg_id] = ch
            return
        if tvg_id in self.channel_ids or tvg_id in self.pending_channels:
            return  # a duplicate declaration: the first one wins
        self.pending_channels[ch.tvg_id] = ch
        if len(self.pending_channels) >= 1000:
            self.flush_channels()

    def flush_channels(self):
        if not self.pending_channels:
            return
        objs = [EPGChannel(source=self.source, generation=self.generation, tvg_id=ch.tvg_id[:255],
                           name=(ch.display_names[0] if ch.display_names else ch.tvg_id)[:255],
                           display_names=ch.display_names, icon_url=ch.icon_url[:2000])
                for ch in self.pending_channels.values()]
        EPGChannel.objects.bulk_create(objs, batch_size=500)
        if any(o.pk is None for o in objs):  # backends that do not return ids
            ids = dict(EPGChannel.objects.filter(source=self.source, generation=self.generation,
                                                 tvg_id__in=[o.tvg_id for o in objs]).values_list("tvg_id", "id"))
        else:
            ids = {o.tvg_id: o.pk for o in objs}
        for tvg_id in self.pending_channels:
            self.channel_ids[tvg_id] = ids[tvg_id[:255]]
        self.pending_channels.clear()

    def programme(self, p: parsers.Programme):
        channel = p.channel
        if channel not in self.channel_ids and channel not in self.pending_channels:
            # a programme before (or without) its <channel>: a placeholder named after the id
            self.pending_channels[channel] = parsers.Channel(channel, [], "")
            self.placeholders.add(channel)
        if p.stop is None:
            self.missing_stop = True
        prev = self.last_start.get(channel)
        if prev is not None and p.start <= prev:
            self.out_of_order = True
        self.last_start[channel] = p.start
        self.rows.append(p)  # text columns are unbounded: nothing to truncate
        if len(self.rows) >= self.batch_size:
            self.flush()

    def flush(self):
        self.flush_channels()
        if not self.rows:
            return
        ids = self.channel_ids
        cats = self._categories_json
        if self.postgres and self.copier is not None:
            self.copier.submit(self.rows)
            self.programmes += len(self.rows)
            self.rows = []
            return
        if self.postgres:
            self._copy(connection, self.rows)
        else:
            adapt = self.ops.adapt_datetimefield_value
            data = [(ids[p.channel], adapt(p.start), adapt(p.stop) if p.stop else None, p.title, p.sub_title,
                     p.description, cats(p.categories), p.episode_xmltv_ns, p.episode_onscreen, p.season, p.episode,
                     p.icon_url, p.rating, p.is_new, p.is_live, p.is_premiere, p.is_finale) for p in self.rows]
            with connection.cursor() as cur:
                cur.executemany(self.insert_sql, data)
        self.programmes += len(self.rows)
        self.rows.clear()

    COPY_TYPES = ["int8", "timestamptz", "timestamptz", "text", "text", "text", "jsonb", "text", "text", "int4",
                  "int4", "text", "text", "bool", "bool", "bool", "bool"]

    def _copy(self, conn, rows):
        """Binary COPY: psycopg's C dumpers, and no text escaping for the server to undo."""
        ids = self.channel_ids
        with conn.cursor() as cur:
            with cur.cursor.copy(self.copy_sql + " (FORMAT BINARY)") as copy:
                copy.set_types(self.COPY_TYPES)
                write = copy.write_row
                for p in rows:
                    write((ids[p.channel], p.start, p.stop, p.title, p.sub_title, p.description, p.categories,
                           p.episode_xmltv_ns, p.episode_onscreen, p.season, p.episode, p.icon_url, p.rating,
                           p.is_new, p.is_live, p.is_premiere, p.is_finale))

    copier = None

    def start_copier(self):
        """On PostgreSQL, outside a transaction, COPY runs in a thread of its own (own connection) so that the
        server works while the file is parsed. Channels are committed before their programmes are queued."""
        if self.postgres and not connection.in_atomic_block:
            self.copier = _CopyThread(self)

    def close(self, ok: bool):
        if self.copier is not None:
            copier, self.copier = self.copier, None
            copier.close(ok)

    _json_cache: dict = {}

    def _categories_json(self, categories: list) -> str:
        if not categories:
            return "[]"
        key = tuple(categories)
        value = self._json_cache.get(key)
        if value is None:
            value = json.dumps(categories)
            if len(self._json_cache) < 10000:
                self._json_cache[key] = value
        return value

    def finish(self):
        self.flush()
        self.close(True)
        if self.late_channels:
            updates = []
            for tvg_id, ch in self.late_channels.items():
                updates.append(EPGChannel(id=self.channel_ids[tvg_id],
                                          name=(ch.display_names[0] if ch.display_names else tvg_id)[:255],
                                          display_names=ch.display_names, icon_url=ch.icon_url[:2000]))
            EPGChannel.objects.bulk_update(updates, ["name", "display_names", "icon_url"], batch_size=500)


class _CopyThread:
    def __init__(self, writer: _BatchWriter):
        import queue
        import threading

        self.writer = writer
        self.queue = queue.Queue(maxsize=3)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="epg-copy", daemon=True)
        self.thread.start()

    def _run(self):
        from django.db import connections

        try:
            while True:
                rows = self.queue.get()
                if rows is None:
                    break
                if self.error is None:
                    try:
                        self.writer._copy(connections["default"], rows)
                    except BaseException as exc:  # reported to the parsing thread at its next submit/close
                        self.error = exc
        finally:
            connections.close_all()

    def submit(self, rows):
        if self.error is not None:
            raise self.error
        self.queue.put(rows)

    def close(self, ok: bool):
        self.queue.put(None)
        self.thread.join()
        if ok and self.error is not None:
            raise self.error


def _load(source: EPGSource, generation: int, path, progress, staged: dict | None = None) -> dict:
    """Parse ``path`` into ``generation`` of ``source``; returns counts. Raises GuideError on a bad file.
    ``staged`` receives the ids of the channels written (tvg id -> id), for the clean-up of a failed import."""
    stream, raw, kind = parsers.open_guide(str(path), max_xml_bytes=settings.EPG_MAX_XML_BYTES)
    total = os.fstat(raw.fileno()).st_size or 1
    stats = parsers.ParseStats()
    writer = _BatchWriter(source, generation, settings.EPG_IMPORT_BATCH_SIZE, staged)
    writer.start_copier()
    n = 0
    programme_type, add_programme, add_channel = parsers.Programme, writer.programme, writer.channel
    try:
        for item in parsers.iter_guide(stream, stats):
            if type(item) is programme_type:
                add_programme(item)
            else:
                add_channel(item)
            n += 1
            if n % 20000 == 0:
                pct = int(90 * raw.tell() / total)
                progress(Status.PARSING, pct, f"Parsed {stats.programmes} programmes.")
        writer.finish()
    finally:
        writer.close(False)
        stream.close()
    missing_stop, out_of_order = writer.missing_stop, writer.out_of_order
    if stats.channels == 0 and stats.programmes == 0:
        raise parsers.GuideError("The guide has no channels and no programmes; the previous guide is kept.")
    progress(Status.PARSING, 92, "Finishing the guide.", force=True)
    programmes = writer.programmes
    if out_of_order:  # only then can a duplicate hide further down the file
        programmes -= _drop_duplicates(source.pk, generation)
    if missing_stop:
        _fill_missing_stops(source.pk, generation)
    return {"channels": len(writer.channel_ids), "programmes": programmes, "skipped": stats.skipped,
            "kind": kind}


def _staged_sql(source_id: int, generation: int) -> tuple[str, list]:
    ch = EPGChannel._meta.db_table
    return (f"SELECT id FROM {ch} WHERE source_id = %s AND generation = %s", [source_id, generation])


def _drop_duplicates(source_id: int, generation: int) -> int:
    """Programmes listed twice on a channel at the same start: the first one in the file is kept."""
    pt = Programme._meta.db_table
    sub, params = _staged_sql(source_id, generation)
    with connection.cursor() as cur:
        cur.execute(
            f"DELETE FROM {pt} WHERE channel_id IN ({sub}) AND id NOT IN ("
            f"SELECT MIN(id) FROM {pt} WHERE channel_id IN ({sub}) GROUP BY channel_id, start)",
            params + params)
        return cur.rowcount


def _fill_missing_stops(source_id: int, generation: int) -> None:
    """A programme without ``stop`` ends where the next one on its channel starts; the last one of a channel,
    having no next, gets one hour."""
    pt = Programme._meta.db_table
    sub, params = _staged_sql(source_id, generation)
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {pt} SET stop = nxt.next_start FROM ("
            f" SELECT id, LEAD(start) OVER (PARTITION BY channel_id ORDER BY start, id) AS next_start"
            f" FROM {pt} WHERE channel_id IN ({sub})) AS nxt"
            f" WHERE {pt}.id = nxt.id AND {pt}.stop IS NULL AND nxt.next_start IS NOT NULL",
            params)
    channel_ids = EPGChannel.objects.filter(source_id=source_id, generation=generation).values("id")
    for pk, start in Programme.objects.filter(channel_id__in=channel_ids, stop__isnull=True).values_list("id", "start"):
        Programme.objects.filter(pk=pk).update(stop=start + timedelta(hours=1))


def _swap(source: EPGSource, generation: int, token: str, counts: dict, message: str) -> None:
    """Serve the new generation: one transaction, and only while our claim holds."""
    now = clock.now()
    with transaction.atomic():
        updated = EPGSource.objects.filter(pk=source.pk, run_token=token).update(
            generation=generation, status=Status.SUCCESS, status_changed_at=now, updated_at=now, progress=100,
            channel_count=counts["channels"], programme_count=counts["programmes"], last_message=message)
        if updated != 1:
            raise ImportAborted()


def after_import(source_id: int) -> None:
    """After a swap: delete the generation that was replaced (readers no longer see it), then regenerate the
    output. Kept out of the import itself so that the new guide is served, and reported, as soon as it is in."""
    source = EPGSource.objects.filter(pk=source_id).first()
    if source is not None:
        _drop_stale_generations(source, older_only=True)
    regenerate_output(source_id)


# --- schedule ------------------------------------------------------------------------------------


def sync_periodic_task(source: EPGSource) -> None:
    """Keep the source's django-celery-beat row in step with ``refresh_interval`` and ``is_active``."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    wanted = (source.refresh_interval > 0 and source.source_type != EPGSource.SourceType.DUMMY)
    task = PeriodicTask.objects.filter(pk=source.periodic_task_id).first() if source.periodic_task_id else None
    if not wanted:
        if task is not None:
            task.delete()  # SET_NULL clears the link
        return
    schedule, _ = IntervalSchedule.objects.get_or_create(every=source.refresh_interval,
                                                         period=IntervalSchedule.HOURS)
    values = dict(name=f"EPG refresh: source {source.pk}", task="epg.refresh_due", args=json.dumps([source.pk]),
                  interval=schedule, enabled=bool(source.is_active), description=f"Refresh of EPG source {source.name!r}",
                  expire_seconds=3600)
    if task is None:
        task = PeriodicTask.objects.filter(name=values["name"]).first() or PeriodicTask(**values)
    for k, v in values.items():
        setattr(task, k, v)
    task.save()
    if source.periodic_task_id != task.pk:
        EPGSource.objects.filter(pk=source.pk).update(periodic_task=task)
        source.periodic_task_id = task.pk


def delete_periodic_task(source: EPGSource) -> None:
    from django_celery_beat.models import PeriodicTask

    if source.periodic_task_id:
        PeriodicTask.objects.filter(pk=source.periodic_task_id).delete()
    PeriodicTask.objects.filter(name=f"EPG refresh: source {source.pk}").delete()


# --- output ------------------------------------------------------------------------------------


def output_path() -> Path:
    return Path(settings.DATA_DIR) / "epg" / OUTPUT_FILENAME


@contextmanager
def _output_state(folder: Path):
    """The output's ``[last ticket given, last ticket written]``, read and written under an exclusive lock."""
    import fcntl

    with open(folder / ".output-state", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        try:
            state = [int(x) for x in fh.read().split()][:2]
        except ValueError:
            state = []
        state += [0] * (2 - len(state))
        yield state
        fh.seek(0)
        fh.truncate()
        fh.write(f"{state[0]} {state[1]}\n")
        fh.flush()


def regenerate_output(source_id: int | None = None) -> Path:
    """Write the merged XMLTV of all active sources (a channel id in several sources comes from the one with
    the highest priority) to a temporary file and move it over the output in one rename; then, after commit,
    send ``output_regenerated``. Regenerations may overlap (several workers): each takes a ticket before it
    reads the database, and one that finishes after a later-ticketed one has been written is dropped (it read
    an older guide)."""
    from . import selectors
    from .signals import output_regenerated

    target = output_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with _output_state(target.parent) as state:
        state[0] += 1
        ticket = state[0]
    fd, tmp = tempfile.mkstemp(prefix=".epg-", suffix=".xml.tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh, parsers.GuideWriter(fh) as writer:
            channels = selectors.output_channels()
            for ch in channels:
                writer.channel(ch["tvg_id"], ch["display_names"] or [ch["name"] or ch["tvg_id"]], ch["icon_url"])
            for p in selectors.output_programmes([c["id"] for c in channels]):
                writer.programme(p.pop("tvg_id"), p.pop("start_text"), p.pop("stop_text"), **p)
        os.chmod(tmp, 0o644)
        with _output_state(target.parent) as state:
            newest = ticket > state[1]
            if newest:
                os.replace(tmp, target)
                state[1] = ticket
        if not newest:
            os.unlink(tmp)
            logger.info("Dropped a regeneration of %s: a later one was written first", target)
            return target
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    logger.info("Wrote %s (%d channels)", target, len(channels))
    transaction.on_commit(lambda: output_regenerated.send(sender=EPGSource, filename=OUTPUT_FILENAME,
                                                           source_id=source_id))
    return target
