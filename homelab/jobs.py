"""Job rows as the source of truth (DESIGN.md, "Work").

``claim`` moves a row into a running state with one conditional UPDATE and reports whether this caller
won, so a second request or a re-delivered task starts nothing; no distributed lock is needed.
``sweep_stuck`` puts rows stuck in a running state past a timeout back into an error state.
"""
from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone


def claim(model: type[models.Model], pk, *, running: list[str], to: str, field: str = "status", **extra) -> bool:
    """status not in running -> ``to``; True when this caller got the row."""
    updated = (
        model.objects.filter(pk=pk)
        .exclude(**{f"{field}__in": running})
        .update(**{field: to}, **extra)
    )
    return updated == 1


def sweep_stuck(model: type[models.Model], *, running: list[str], to: str, older_than: timedelta,
                changed_field: str = "status_changed_at", message_field: str | None = None,
                field: str = "status") -> int:
    cutoff = timezone.now() - older_than
    values = {field: to}
    if message_field:
        values[message_field] = f"Reset: still running after {int(older_than.total_seconds())} s (worker lost?)"
    return model.objects.filter(**{f"{field}__in": running, f"{changed_field}__lt": cutoff}).update(**values)
