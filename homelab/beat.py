"""Celery beat's scheduler: django-celery-beat's DatabaseScheduler that survives a bad row.

One PeriodicTask whose schedule cannot be computed (an interval so large that ``now + interval`` is past year
9999: ``OverflowError: date value out of range``) used to kill beat, which stopped the whole stack under
``manage.py serve``, at every restart; so did a crontab that never matches (31 February: celery's
``RuntimeError: unable to rollover``). Here such a row is logged, disabled (the admin shows it, an operator can
fix it) and skipped; every other row keeps running.
"""
from __future__ import annotations

import logging

from celery import schedules
from django_celery_beat.schedulers import DatabaseScheduler, ModelEntry

logger = logging.getLogger("homelab.beat")

BAD_SCHEDULE_ERRORS = (OverflowError, ValueError, ArithmeticError, RuntimeError)
RECHECK_SECONDS = 3600.0


def _refuse(model, exc: BaseException) -> None:
    """Log the bad row and disable it (a save, so the scheduler re-reads its rows without it)."""
    logger.error("Beat: the periodic task %r (%s) has a schedule that cannot be computed (%s: %s); disabled it, "
                 "the other tasks go on. Fix its schedule in the admin and enable it again.",
                 model.name, model.task, type(exc).__name__, exc)
    try:
        model.enabled = False
        model.no_changes = False
        model.save()
    except Exception as save_exc:  # it stays skipped in this process
        logger.error("Beat: could not disable the periodic task %r: %s", model.name, save_exc)


class SafeModelEntry(ModelEntry):
    def __init__(self, model, app=None):
        try:
            super().__init__(model, app=app)
        except BAD_SCHEDULE_ERRORS as exc:
            _refuse(model, exc)
            raise ValueError(f"bad schedule: {exc}") from exc  # DatabaseScheduler skips the row on ValueError

    def is_due(self):
        try:
            return super().is_due()
        except Exception as exc:  # whatever one row's schedule raises, the other rows go on
            if self.model.enabled:
                _refuse(self.model, exc)
            return schedules.schedstate(False, RECHECK_SECONDS)


class SafeDatabaseScheduler(DatabaseScheduler):
    Entry = SafeModelEntry
