"""The job kit: job rows as the source of truth (DESIGN.md, "Work").

- ``claim`` moves a row into a running state with one conditional UPDATE and reports whether this caller
  won, so a second request or a re-delivered task starts nothing; no distributed lock is needed. It also
  stamps the row's heartbeat when the model has one (``heartbeat=False`` for a claim whose job waits in the
  queue: it has no worker yet, and ``sweep_stuck`` covers it).
- ``Heartbeat`` is what a running job calls as it goes; it writes ``heartbeat_at`` at most every
  ``JOB_HEARTBEAT_INTERVAL`` seconds. ``sweep_stale`` frees claims whose heartbeat is older than
  ``JOB_HEARTBEAT_STALE`` seconds (a worker killed mid-job), so a lost claim costs a minute or two.
- ``sweep_stuck`` puts rows stuck in a running state past a timeout back into an error state (rows without
  a heartbeat: claimed, but never started by a worker).
- ``register`` puts a job model on the list that ``sweep_all`` goes through: the beat task
  ``homelab.sweep_jobs`` every 30 s, and ``manage.py serve`` at start (``free_dead_claims``, with a short
  stale time: the stack's previous workers are gone). Both also remove downloads that killed workers left in
  ``<data dir>/tmp``.
- ``RetryLater`` and ``backoff`` are the one retry rule: a service raises ``RetryLater`` for a temporary
  failure with retries left (``homelab.http.is_temporary`` says which), the task retries after
  ``backoff(self.request.retries)`` seconds, at most ``max_retries()`` (JOB_MAX_RETRIES) times.
"""
from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field as dc_field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import models

from homelab import clock

logger = logging.getLogger("homelab.jobs")

HEARTBEAT_FIELD = "heartbeat_at"


class RetryLater(Exception):
    """A temporary failure with retries left: the claim is kept and the task retries after ``backoff``."""


def max_retries() -> int:
    return settings.JOB_MAX_RETRIES


def backoff(attempt: int) -> float:
    """Seconds before retry number ``attempt + 1``: JOB_RETRY_BACKOFF doubled each time, capped at
    JOB_RETRY_MAX_DELAY."""
    base, cap = settings.JOB_RETRY_BACKOFF, settings.JOB_RETRY_MAX_DELAY
    attempt = max(0, int(attempt))
    if base <= 0:
        return 0.0
    if attempt >= 64 or base * 2.0 ** attempt >= cap:  # 2 ** attempt alone overflows a float past ~1024
        return float(cap)
    return float(base * 2 ** attempt)


def _has_field(model, name: str) -> bool:
    return any(f.name == name for f in model._meta.get_fields())


def claim(model: type[models.Model], pk, *, running: list[str], to: str, field: str = "status",
          heartbeat: bool = True, **extra) -> bool:
    """status not in running -> ``to``; True when this caller got the row. The heartbeat is stamped now, or
    cleared with ``heartbeat=False`` (a job queued for a worker: it beats once it starts)."""
    if _has_field(model, HEARTBEAT_FIELD) and HEARTBEAT_FIELD not in extra:
        extra[HEARTBEAT_FIELD] = clock.now() if heartbeat else None
    updated = (
        model.objects.filter(pk=pk)
        .exclude(**{f"{field}__in": running})
        .update(**{field: to}, **extra)
    )
    return updated == 1


class Heartbeat:
    """Touch a running job's ``heartbeat_at`` every few seconds: ``beat = Heartbeat(Model, pk, run_token=t)``,
    then ``beat()`` as often as convenient (it writes at most every JOB_HEARTBEAT_INTERVAL seconds, or at
    once with ``force=True``). Returns False once the row is gone or no longer matches ``filters`` (the claim
    was lost or the job cancelled), so the caller can stop."""

    def __init__(self, model: type[models.Model], pk, **filters):
        self.model, self.pk, self.filters = model, pk, filters
        self.interval = settings.JOB_HEARTBEAT_INTERVAL
        self._last = None

    def __call__(self, *, force: bool = False, **values) -> bool:
        now = clock.monotonic()
        if not force and not values and self._last is not None and now - self._last < self.interval:
            return True
        self._last = now
        return bool(self.model.objects.filter(pk=self.pk, **self.filters)
                    .update(**{HEARTBEAT_FIELD: clock.now()}, **values))


def sweep_stale(model: type[models.Model], *, running: list[str], to: str, field: str = "status",
                stale_after: float | None = None, message_field: str | None = None,
                message: str | None = None, **extra) -> int:
    """Free claims whose heartbeat is older than ``stale_after`` seconds (default JOB_HEARTBEAT_STALE):
    running -> ``to``, with ``message`` (or a default) in ``message_field``. Returns the rows freed."""
    stale_after = settings.JOB_HEARTBEAT_STALE if stale_after is None else stale_after
    cutoff = clock.now() - timedelta(seconds=stale_after)
    values = {field: to, **_evaluate(extra)}
    if message_field:
        values[message_field] = message or (
            f"Stopped: no heartbeat for {int(stale_after)} s (the worker was lost); run it again.")
    # a row without a heartbeat was claimed but never started (queued): sweep_stuck's longer timeout is its
    return model.objects.filter(**{f"{HEARTBEAT_FIELD}__lt": cutoff, f"{field}__in": running}).update(**values)


def _evaluate(values: dict) -> dict:
    """Values to write; a callable is called now (``status_changed_at=clock.now``)."""
    return {k: (v() if callable(v) else v) for k, v in values.items()}


def sweep_stuck(model: type[models.Model], *, running: list[str], to: str, older_than: timedelta,
                changed_field: str = "status_changed_at", message_field: str | None = None,
                field: str = "status", **extra) -> int:
    cutoff = clock.now() - older_than
    values = {field: to, **_evaluate(extra)}
    if message_field:
        values[message_field] = f"Reset: still running after {int(older_than.total_seconds())} s (worker lost?)"
    rows = model.objects.filter(**{f"{field}__in": running, f"{changed_field}__lt": cutoff})
    if _has_field(model, HEARTBEAT_FIELD):  # those with a heartbeat are sweep_stale's
        rows = rows.filter(**{f"{HEARTBEAT_FIELD}__isnull": True})
    return rows.update(**values)


# --- the registry of job models: one sweep for all ------------------------------------------------


@dataclass(frozen=True)
class JobModel:
    model: type[models.Model]
    running: tuple[str, ...]
    to: str
    field: str = "status"
    message_field: str | None = None
    stuck_after: timedelta | None = None  # for rows without a heartbeat (queued and never started)
    changed_field: str = "status_changed_at"
    extra: dict = dc_field(default_factory=dict)  # more values to write on a freed row (callables: called)


_registry: dict[str, JobModel] = {}


def register(model: type[models.Model], *, running, to: str, field: str = "status", message_field: str | None = None,
             stuck_after: timedelta | None = None, changed_field: str = "status_changed_at", **extra) -> None:
    """Put a job model on the sweep's list (call it from the app's ``AppConfig.ready``)."""
    _registry[model._meta.label] = JobModel(model, tuple(running), to, field, message_field, stuck_after,
                                            changed_field, extra)


def registered() -> list[JobModel]:
    return list(_registry.values())


def sweep_all(*, stale_after: float | None = None, message: str | None = None) -> dict[str, int]:
    """Free the lost claims of every registered job model and remove stale temporary downloads.
    Returns ``{model label: rows freed}`` (models with nothing freed are left out)."""
    freed: dict[str, int] = {}
    for job in registered():
        n = 0
        if _has_field(job.model, HEARTBEAT_FIELD):
            n += sweep_stale(job.model, running=list(job.running), to=job.to, field=job.field,
                             stale_after=stale_after, message_field=job.message_field, message=message, **job.extra)
        if job.stuck_after is not None and stale_after is None:
            n += sweep_stuck(job.model, running=list(job.running), to=job.to, older_than=job.stuck_after,
                             changed_field=job.changed_field, message_field=job.message_field, field=job.field,
                             **job.extra)
        if n:
            logger.warning("%s: freed %d claim(s) lost with their worker", job.model._meta.label, n)
            freed[job.model._meta.label] = n
    if stale_after is None:  # the beat sweep: a working folder may sit unchanged a while (a slow decode)
        remove_stale_tmp_files(settings.JOB_HEARTBEAT_STALE, dirs_older_than=STALE_WORK_DIR_SECONDS)
    else:  # serve's start: nothing of this stack runs yet
        remove_stale_tmp_files(stale_after)
    return freed


def free_dead_claims() -> dict[str, int]:
    """At ``serve`` start, before its worker starts: claims whose heartbeat is older than three heartbeat
    intervals were held by workers that are gone (a live worker, also one of another stack sharing the
    database, beats every JOB_HEARTBEAT_INTERVAL seconds)."""
    return sweep_all(stale_after=settings.JOB_HEARTBEAT_INTERVAL * 3,
                     message="Stopped: the worker running it was stopped; run it again.")


def tmp_dir() -> Path:
    """Where jobs write their downloads (``<data dir>/tmp``)."""
    return Path(settings.DATA_DIR) / "tmp"


STALE_WORK_DIR_SECONDS = 3600


def remove_stale_tmp_files(older_than: float, *, dirs_older_than: float | None = None) -> int:
    """Delete files in ``tmp_dir()`` not modified for ``older_than`` seconds (a running download writes its
    file as it goes), and working folders (previews' frames) not changed for ``dirs_older_than`` seconds
    (default ``older_than``); returns how many."""
    cutoff = clock.time() - older_than
    dir_cutoff = clock.time() - (older_than if dirs_older_than is None else dirs_older_than)
    removed = 0
    try:
        entries = list(os.scandir(tmp_dir()))
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            mtime = entry.stat(follow_symlinks=False).st_mtime
            if entry.is_file(follow_symlinks=False) and mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
            elif entry.is_dir(follow_symlinks=False) and mtime < dir_cutoff:
                shutil.rmtree(entry.path, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    if removed:
        logger.info("Removed %d stale download(s) or working folder(s) from %s", removed, tmp_dir())
    return removed
