"""The job kit: job rows as the source of truth (DESIGN.md, "Work").

- ``claim`` moves a row into a running state with one conditional UPDATE and reports whether this caller
  won, so a second request or a re-delivered task starts nothing; no distributed lock is needed. It also
  stamps the row's heartbeat when the model has one.
- ``Heartbeat`` is what a running job calls as it goes; it writes ``heartbeat_at`` at most every
  ``JOB_HEARTBEAT_INTERVAL`` seconds. ``sweep_stale`` frees claims whose heartbeat is older than
  ``JOB_HEARTBEAT_STALE`` seconds (a worker killed mid-job), so a lost claim costs a minute or two.
- ``sweep_stuck`` puts rows stuck in a running state past a timeout back into an error state (rows without
  a heartbeat).
- ``RetryLater`` and ``backoff`` are the one retry rule: a service raises ``RetryLater`` for a temporary
  failure with retries left (``homelab.http.is_temporary`` says which), the task retries after
  ``backoff(self.request.retries)`` seconds, at most ``max_retries()`` (JOB_MAX_RETRIES) times.
"""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models

from homelab import clock

HEARTBEAT_FIELD = "heartbeat_at"


class RetryLater(Exception):
    """A temporary failure with retries left: the claim is kept and the task retries after ``backoff``."""


def max_retries() -> int:
    return settings.JOB_MAX_RETRIES


def backoff(attempt: int) -> float:
    """Seconds before retry number ``attempt + 1``: JOB_RETRY_BACKOFF doubled each time, capped."""
    return min(settings.JOB_RETRY_MAX_DELAY, settings.JOB_RETRY_BACKOFF * (2 ** max(0, attempt)))


def _has_field(model, name: str) -> bool:
    return any(f.name == name for f in model._meta.get_fields())


def claim(model: type[models.Model], pk, *, running: list[str], to: str, field: str = "status", **extra) -> bool:
    """status not in running -> ``to``; True when this caller got the row."""
    if _has_field(model, HEARTBEAT_FIELD) and HEARTBEAT_FIELD not in extra:
        extra[HEARTBEAT_FIELD] = clock.now()
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
    values = {field: to, **extra}
    if message_field:
        values[message_field] = message or (
            f"Stopped: no heartbeat for {int(stale_after)} s (the worker was lost); run it again.")
    stale = models.Q(**{f"{HEARTBEAT_FIELD}__lt": cutoff}) | models.Q(**{f"{HEARTBEAT_FIELD}__isnull": True})
    return model.objects.filter(stale, **{f"{field}__in": running}).update(**values)


def sweep_stuck(model: type[models.Model], *, running: list[str], to: str, older_than: timedelta,
                changed_field: str = "status_changed_at", message_field: str | None = None,
                field: str = "status") -> int:
    cutoff = clock.now() - older_than
    values = {field: to}
    if message_field:
        values[message_field] = f"Reset: still running after {int(older_than.total_seconds())} s (worker lost?)"
    return model.objects.filter(**{f"{field}__in": running, f"{changed_field}__lt": cutoff}).update(**values)
