"""Writes of the channels app: claiming and running a provider refresh, the default provider, stale refreshes.

A refresh follows DESIGN.md's job rules: ``claim_refresh`` moves the provider row to ``fetching`` with a
conditional UPDATE (a second request while one runs starts nothing), ``run_refresh`` downloads the playlist
to disk through ``homelab.http`` (size cap, read timeouts), reads player_api.php where the panel has it,
parses the file as a stream, diffs it against the stored catalogue and swaps the result in one transaction
(``channels.catalogue``). Progress goes to the row and to the ``channels`` event channel; the row ends in
``success`` or ``error`` in ``finally``, with the reason in ``last_message``; the old catalogue stays served
when anything fails. Services never queue tasks: ``channels.tasks`` does.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F

from epg import selectors as epg_selectors
from homelab import clock, events, jobs
from homelab.http import redact_url

from . import catalogue, clients, parsers
from .models import Provider

logger = logging.getLogger("channels.refresh")

EVENTS_CHANNEL = "channels"
Status = Provider.Status
PROGRESS_EVERY = 2000  # entries between progress / heartbeat checks
GROUP = catalogue.COLUMNS.index("group_title")
LAST_TIMINGS: dict[str, float] = {}  # of this process's last refresh (logged; read by bench/m3u_import.py)


class RefreshAborted(Exception):
    """The claim is gone under a running refresh (the provider was deleted, or its claim swept and retaken)."""

    def __init__(self):
        super().__init__("The provider was deleted or re-claimed during the refresh.")


def workdir() -> Path:
    path = Path(settings.DATA_DIR) / "channels" / "work"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- claiming ------------------------------------------------------------------------------------


def claim_refresh(provider_id: int, message: str = "Queued for refresh.") -> str | None:
    """Claim the provider for a refresh; returns the run token, or None when one is already running. The claim's
    heartbeat is set ahead by the task time limit: a refresh waiting in a busy queue is not taken for lost (the
    job sweep frees it if it never starts); once it runs it beats every few seconds."""
    token = uuid.uuid4().hex
    queued = clock.now() + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    if not jobs.claim(Provider, provider_id, running=Provider.RUNNING, to=Status.FETCHING, run_token=token,
                      progress=0, last_message=message, heartbeat_at=queued):
        return None
    publish(provider_id, Status.FETCHING, 0, message)
    return token


def release_unqueued(provider_id: int, token: str, exc: Exception) -> None:
    """The task could not be queued (broker down): say so on the row instead of leaving it 'fetching'."""
    logger.error("Could not queue the refresh of provider %s: %s", provider_id, exc)
    message = f"Could not queue the refresh (task broker unavailable: {type(exc).__name__})."
    Provider.objects.filter(pk=provider_id, run_token=token).update(
        status=Status.ERROR, last_message=message, last_error=message)


def stale_providers() -> list[int]:
    """Enabled providers whose catalogue is older than their TTL and that are not refreshing."""
    return [p.pk for p in Provider.objects.filter(enabled=True).exclude(status__in=Provider.RUNNING) if p.is_stale]


def retry_scheduled(provider_id: int, token: str, seconds: float) -> None:
    """A retry waits ``seconds``: its heartbeat is set that far ahead, so the stale-claim sweep leaves it."""
    Provider.objects.filter(pk=provider_id, run_token=token).update(
        heartbeat_at=clock.now() + timedelta(seconds=seconds))


# what a refresh freed by the job sweep gets besides its status and message (homelab.jobs.register)
SWEPT = {"run_token": "", "progress": 0,
         "last_error": "The refresh stopped: its worker was lost; the previous catalogue is kept."}


def sweep_stale() -> int:
    return jobs.sweep_stale(Provider, running=Provider.RUNNING, to=Status.ERROR, message_field="last_message",
                            **SWEPT)


# --- running -------------------------------------------------------------------------------------


def publish(provider_id, status, progress, message):
    events.publish(EVENTS_CHANNEL, "channels_refresh",
                   {"provider": provider_id, "status": str(status), "progress": progress, "message": message})


class _Progress:
    """Writes status, percent and message to the row (and publishes them) at most every half second or 2 %,
    and touches the heartbeat; raises RefreshAborted once the claim is gone."""

    def __init__(self, provider_id: int, token: str):
        self.provider_id, self.token = provider_id, token
        self.beat = jobs.Heartbeat(Provider, provider_id, run_token=token)
        self.last_percent, self.last_time = -100, 0.0

    def __call__(self, status: str, percent: int, message: str, force: bool = False):
        now = clock.monotonic()
        percent = max(0, min(100, int(percent)))
        if not force and abs(percent - self.last_percent) < 2 and now - self.last_time < 0.5:
            if not self.beat():
                raise RefreshAborted()
            return
        self.last_percent, self.last_time = percent, now
        if not self.beat(force=True, status=status, progress=percent, last_message=message):
            raise RefreshAborted()
        publish(self.provider_id, status, percent, message)


def run_refresh(provider_id: int, token: str, *, may_retry: bool = False) -> str | None:
    """Refresh a claimed provider. Returns the final status (None when the row is gone or the claim is not
    ours). With ``may_retry``, a temporary failure (timeout, refused, cut, 5xx, 429) raises
    ``jobs.RetryLater`` and leaves the row claimed, the reason in ``last_message``, for the task to retry."""
    provider = Provider.objects.select_related("service").filter(pk=provider_id, run_token=token).first()
    if provider is None:
        logger.info("Provider %s: no claim %s on it (gone or superseded); nothing to do", provider_id, token)
        return None
    progress = _Progress(provider_id, token)
    folder = Path(tempfile.mkdtemp(prefix=f"refresh-{provider_id}-", dir=workdir()))
    final, retrying = Status.ERROR, False
    message = "The refresh stopped unexpectedly."
    try:
        playlist, enrichment = _fetch(provider, folder, progress)
        counts, message = _load(provider, token, playlist, enrichment, progress)
        final = Status.SUCCESS
        logger.info("Provider %s (%s): %s", provider_id, provider.name, message)
    except RefreshAborted as exc:
        final, message = None, str(exc)
        logger.warning("Provider %s: %s", provider_id, exc)
    except clients.ProviderError as exc:
        message = f"The refresh failed; the previous catalogue is kept. {exc}"
        if may_retry and not exc.permanent:
            retrying = True
            note = f"{exc}; retrying, the previous catalogue is kept."
            Provider.objects.filter(pk=provider_id, run_token=token).update(last_message=note, last_error=note)
            raise jobs.RetryLater(str(exc)) from None
        logger.warning("Provider %s (%s): %s", provider_id, provider.name, message)
    except parsers.PlaylistError as exc:
        message = f"The refresh failed; the previous catalogue is kept. {exc}"
        logger.warning("Provider %s (%s): %s", provider_id, provider.name, message)
    except Exception as exc:
        message = f"The refresh failed; the previous catalogue is kept. Unexpected error: {type(exc).__name__}"
        logger.exception("Provider %s (%s): refresh failed", provider_id, provider.name)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if not retrying and final is not None:
            if final == Status.ERROR:
                Provider.objects.filter(pk=provider_id, run_token=token).update(
                    status=Status.ERROR, last_message=message, last_error=message, run_token="")
            publish(provider_id, final, 100 if final == Status.SUCCESS else 0, message)
    return final


def _fetch(provider: Provider, folder: Path, progress) -> tuple[Path, clients.Enrichment | None]:
    if provider.source_type == Provider.SourceType.FILE:
        if not provider.file:
            raise clients.ProviderError("The provider has no uploaded playlist.", permanent=True)
        return Path(provider.file.path), None
    service = provider.service
    if service is None or not service.target_url:
        raise clients.ProviderError("The provider's Service has no URL.", permanent=True)
    target = folder / "playlist.m3u"
    where = redact_url(service.target_url)
    progress(Status.FETCHING, 0, f"Downloading the playlist from {where}", force=True)

    def on_chunk(size, _state={"next": 4 << 20}):
        if size >= _state["next"]:
            _state["next"] = size + (4 << 20)
            progress(Status.FETCHING, 0, f"Downloading the playlist from {where}: {size / 1e6:.1f} MB", force=True)

    enrichment = None
    with open(target, "wb") as fh:
        if provider.source_type == Provider.SourceType.XTREAM:
            client = clients.XtreamClient.for_provider(provider)
            client.download_playlist(fh, on_chunk=on_chunk)
        else:
            clients.download(service.target_url, fh, verify=provider.verifies_ssl,
                             user_agent=provider.user_agent, on_chunk=on_chunk)
    if provider.source_type == Provider.SourceType.XTREAM:
        progress(Status.FETCHING, 0, "Reading player_api.php categories", force=True)
        enrichment = client.enrichment(folder)
    return target, enrichment


def guide_index() -> catalogue.GuideIndex:
    tvg_ids, names = {}, {}
    for tvg_id, channel_names in epg_selectors.guide_channel_names():
        tvg_ids.setdefault(tvg_id, tvg_id)
        tvg_ids.setdefault(tvg_id.casefold(), tvg_id)
        for name in channel_names:
            key = parsers.match_name(name)
            if key:
                names.setdefault(key, tvg_id)
    return catalogue.GuideIndex(tvg_ids, names)


def _load(provider: Provider, token: str, path: Path, enrichment, progress) -> dict:
    size = max(1, os.path.getsize(path))
    keep = catalogue.group_filter(provider.include_groups, provider.exclude_groups)
    guide = guide_index()
    header = parsers.Header()
    progress(Status.PARSING, 0, "Reading the playlist", force=True)
    started = clock.monotonic()
    stream = catalogue.InsertStream() if catalogue.streams_inserts() else None
    try:
        with tempfile.TemporaryFile(dir=workdir()) as spool, parsers.open_playlist(path) as fh:
            differ = catalogue.Differ(provider.pk, spool, insert=stream.add if stream else None)
            context = catalogue.row_context(provider, guide)
            # the guide, the group patterns and the code are as they were: unchanged lines are an unchanged row
            trusted = provider.row_context == context
            lookup = enrichment.lookup if enrichment else None
            position = read = 0
            for raw in parsers.iter_raw(fh, header):
                read += 1
                kind = parsers.stream_kind(raw.url.partition("|")[0])
                source = catalogue.source_hash(position, raw, lookup(*kind) if lookup else None)
                kept = trusted and differ.unchanged(
                    parsers.key_hash(kind[0], kind[1], parsers.stable_key(raw.url, *kind)), source)
                if not kept:  # read it, and compare its row
                    row = catalogue.build_row(provider.pk, position, parsers.to_entry(raw, kind), enrichment, guide,
                                              source)
                    # the patterns see the group as it is served: player_api.php may have filled it in
                    if keep is not None and not keep(row[GROUP]):
                        continue
                    if not differ.add(row):
                        continue
                position += 1
                if position % PROGRESS_EVERY == 0:
                    done = fh.buffer.tell() * 90 // size
                    progress(Status.PARSING, done, f"Read {position} channels")
            if position == 0:
                # an account that expired or a panel in trouble often answers a bare "#EXTM3U": never swap that in
                raise parsers.PlaylistError(_not_a_playlist(path) if not header.seen else
                                            "The playlist has no entries" + (" in the included groups." if keep else "."))
            stored = len(differ.keys)
            gone = differ.finish()
            counts = differ.counts
            if _damaged(header.junk, read, stored):
                raise parsers.PlaylistError(
                    f"The playlist looks damaged: {header.junk} unreadable lines, and {read} entries where there "
                    f"were {stored} channels.")
            parsed_at = clock.monotonic()
            progress(Status.PARSING, 95, f"Saving {counts['total']} channels", force=True)
            message = (f"{counts['total']} channels ({counts['new']} new, {counts['changed']} changed, "
                       f"{counts['removed']} removed)")
            if counts["duplicates"]:
                message += f"; {counts['duplicates']} duplicate entries skipped"
            if header.junk:
                message += f"; {header.junk} unreadable lines skipped"
            if enrichment is not None and enrichment.notes:
                message += f"; player_api.php not used for {len(enrichment.notes)} lists ({enrichment.notes[0]})"
            now = clock.now()
            wrote = bool(counts["new"] or counts["changed"] or counts["removed"])

            def swap():
                # the claim is checked (and the row locked) before the swap is committed
                locked = Provider.objects.select_for_update().filter(pk=provider.pk, run_token=token).exists()
                if not locked:
                    raise RefreshAborted()
                catalogue.apply(provider.pk, spool, gone, differ.resourced)
                Provider.objects.filter(pk=provider.pk).update(
                    status=Status.SUCCESS, progress=100, refreshed_at=now, channel_count=counts["total"],
                    tvg_url=header.tvg_url, last_error="", heartbeat_at=now, run_token="", last_message=message,
                    row_context=context, generation=F("generation") + (1 if wrote else 0))

            if stream is not None:
                stream.commit(swap)  # in the writer's transaction, with the rows it has been writing
                stream = None
            else:
                with transaction.atomic():
                    swap()
    finally:
        if stream is not None:  # failed or cancelled before the swap: what was written is rolled back
            stream.abort()
    LAST_TIMINGS.update(read=parsed_at - started, save=clock.monotonic() - parsed_at)
    logger.info("Provider %s: playlist read and compared in %.1f s, saved in %.1f s", provider.pk,
                LAST_TIMINGS["read"], LAST_TIMINGS["save"])
    return counts, message


DAMAGED_JUNK_LINES = 1000


def _damaged(junk: int, entries: int, stored: int) -> bool:
    """A download that is partly garbage (the right length, but bytes that are no playlist): many unreadable
    lines, and fewer than half as many entries (before the group patterns) as there were channels. A provider
    that really drops half its list sends clean lines, and a first refresh has nothing to protect."""
    return junk >= DAMAGED_JUNK_LINES and junk * 10 >= entries and stored > 0 and entries * 2 < stored


def _not_a_playlist(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(512).lstrip().lower()
    if not head:
        what = "it is empty"
    elif head.startswith(b"<"):
        what = "it is an HTML or XML page"
    elif head.startswith(b"{") or head.startswith(b"["):
        what = "it is JSON"
    else:
        what = "it has no #EXTM3U header and no entries"
    return f"The provider's answer is not an M3U playlist ({what})."
