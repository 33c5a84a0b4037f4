"""Schedules: a library scanned on a cron expression or every N minutes, stored as django-celery-beat rows.

A ``Schedule`` keeps its name and library; its timing, ``enabled`` and last run are the linked ``PeriodicTask``
(with a ``CrontabSchedule`` or an ``IntervalSchedule``), the one row beat reads. So the API, the schedules
admin and django-celery-beat's own admin all show and edit the same thing. ``next_run`` is computed in UTC from
that row (on ``homelab.clock``): the next cron time after the row's last run, or the last run plus the interval;
a schedule that is due (beat will start it at its next tick) shows the current time.

Beat calls ``previews.run_schedule`` with the schedule id; ``start`` makes a job unless one is still pending or
running on the same library (that job's id is returned instead: never two scans of a library at once).
"""
from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta

from celery.schedules import crontab as celery_crontab
from django.conf import settings
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from homelab import clock

from . import services
from .models import Job, Schedule

logger = logging.getLogger("previews.schedules")
TASK = "previews.run_schedule"
MAX_INTERVAL_MINUTES = 366 * 24 * 60
CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
SECONDS = {IntervalSchedule.DAYS: 86400, IntervalSchedule.HOURS: 3600, IntervalSchedule.MINUTES: 60,
           IntervalSchedule.SECONDS: 1, IntervalSchedule.MICROSECONDS: 1e-6}


class ScheduleError(ValueError):
    """A schedule that cannot be stored: ``field`` names what is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


# --- cron and intervals -------------------------------------------------------------------------------------

def parse_cron(expression) -> dict:
    """``"0 2 * * *"`` -> the CrontabSchedule fields; ScheduleError saying what is wrong otherwise."""
    if not isinstance(expression, str) or not expression.strip():
        raise ScheduleError("cron_expression", "A cron expression of five fields is required, e.g. \"0 2 * * *\".")
    parts = expression.split()
    if len(parts) != 5:
        raise ScheduleError("cron_expression", f"A cron expression has five fields (minute hour day-of-month month "
                                               f"day-of-week); {expression!r} has {len(parts)}.")
    fields = dict(zip(CRON_FIELDS, parts))
    try:
        schedule = celery_crontab(**fields)
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise ScheduleError("cron_expression", f"Invalid cron expression {expression!r}: {exc}") from None
    try:  # "0 0 31 2 *" parses but never comes: beat could not compute its next run
        start = clock.now()
        schedule.nowfun = lambda: start
        schedule.remaining_estimate(start)
    except (RuntimeError, ValueError, OverflowError) as exc:
        raise ScheduleError("cron_expression", f"The cron expression {expression!r} never matches a date "
                                               f"({exc}).") from None
    return fields


def cron_expression(crontab: CrontabSchedule) -> str:
    return " ".join(str(getattr(crontab, name)) for name in CRON_FIELDS)


def check_interval(minutes) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        if isinstance(minutes, str) and minutes.strip().isdigit():
            minutes = int(minutes)
        else:
            raise ScheduleError("interval_minutes", "interval_minutes must be a whole number of minutes.")
    if minutes < 1:
        raise ScheduleError("interval_minutes", "interval_minutes must be at least 1.")
    if minutes > MAX_INTERVAL_MINUTES:
        raise ScheduleError("interval_minutes", f"interval_minutes must be at most {MAX_INTERVAL_MINUTES} (a year).")
    return minutes


def _crontab_row(fields: dict) -> CrontabSchedule:
    row = CrontabSchedule.objects.filter(**fields, timezone=settings.TIME_ZONE).first()
    return row or CrontabSchedule.objects.create(**fields, timezone=settings.TIME_ZONE)


def _interval_row(minutes: int) -> IntervalSchedule:
    row = IntervalSchedule.objects.filter(every=minutes, period=IntervalSchedule.MINUTES).first()
    return row or IntervalSchedule.objects.create(every=minutes, period=IntervalSchedule.MINUTES)


# --- reading a schedule -------------------------------------------------------------------------------------

def schedule_type(task: PeriodicTask) -> str:
    return "cron" if task.crontab_id else "interval"


def interval_minutes(interval: IntervalSchedule) -> int:
    """The interval in whole minutes (an admin may have set it in seconds or hours: rounded, at least 1)."""
    return max(1, round(interval.every * SECONDS.get(interval.period, 60) / 60))


def next_run(task: PeriodicTask, *, created_at=None):
    """When beat starts the schedule next, in UTC (None when disabled or without timing)."""
    if not task.enabled:
        return None
    now = clock.now()
    base = task.last_run_at or created_at or now
    if task.crontab_id:
        crontab = task.crontab
        tz = crontab.timezone
        base_local = base.astimezone(tz)
        try:
            schedule = celery_crontab(**{name: getattr(crontab, name) for name in CRON_FIELDS},
                                      nowfun=lambda: base_local)
            upcoming = base_local + schedule.remaining_estimate(base_local)
        except (RuntimeError, ValueError, OverflowError, TypeError):  # a row edited into one that never comes
            return None
    elif task.interval_id:
        upcoming = base + timedelta(seconds=task.interval.every * SECONDS.get(task.interval.period, 60))
    else:
        return None
    if task.start_time and upcoming < task.start_time:
        upcoming = task.start_time
    from datetime import timezone

    upcoming = upcoming.astimezone(timezone.utc).replace(microsecond=0)
    return max(upcoming, now.replace(microsecond=0))


def as_dict(schedule: Schedule) -> dict:
    task = schedule.periodic_task
    row = {"id": str(schedule.pk), "name": schedule.name, "library_id": schedule.library_id,
           "schedule_type": schedule_type(task)}
    if task.crontab_id:
        row["cron_expression"] = cron_expression(task.crontab)
    elif task.interval_id:
        row["interval_minutes"] = interval_minutes(task.interval)
    row["enabled"] = task.enabled
    row["next_run"] = next_run(task, created_at=schedule.created_at)
    return row


def schedule_list() -> list[dict]:
    rows = Schedule.objects.select_related("periodic_task__crontab", "periodic_task__interval")
    return [as_dict(s) for s in rows]


def find(schedule_id) -> Schedule | None:
    try:
        uuid.UUID(str(schedule_id))
    except ValueError:
        return None
    return Schedule.objects.select_related("periodic_task__crontab", "periodic_task__interval").filter(
        pk=schedule_id).first()


# --- writing ------------------------------------------------------------------------------------------------

def _task_name(name: str, schedule_id) -> str:
    return f"Previews: {name[:150]} ({schedule_id})"


def _timing(values: dict, task: PeriodicTask | None) -> dict:
    """The crontab / interval of the beat row from the request's values (with the stored ones as defaults)."""
    kind = values.get("schedule_type") or (schedule_type(task) if task else None)
    if kind not in ("cron", "interval"):
        raise ScheduleError("schedule_type", "schedule_type must be \"cron\" or \"interval\".")
    if kind == "cron":
        if "cron_expression" in values:
            expression = values["cron_expression"]
        elif task is not None and task.crontab_id:
            expression = cron_expression(task.crontab)
        else:
            raise ScheduleError("cron_expression", "A cron schedule needs cron_expression, e.g. \"0 2 * * *\".")
        return {"crontab": _crontab_row(parse_cron(expression)), "interval": None}
    if "interval_minutes" in values:
        minutes = check_interval(values["interval_minutes"])
    elif task is not None and task.interval_id:
        minutes = interval_minutes(task.interval)
    else:
        raise ScheduleError("interval_minutes", "An interval schedule needs interval_minutes (at least 1).")
    return {"crontab": None, "interval": _interval_row(minutes)}


def check(values: dict, *, creating: bool) -> None:
    """Everything checked before anything is written (the timing rows are written by _timing)."""
    if creating or "schedule_type" in values:
        kind = values.get("schedule_type")
        if kind not in ("cron", "interval"):
            raise ScheduleError("schedule_type", "schedule_type must be \"cron\" or \"interval\".")
    if "cron_expression" in values and values["cron_expression"] is not None:
        parse_cron(values["cron_expression"])
    if "interval_minutes" in values and values["interval_minutes"] is not None:
        check_interval(values["interval_minutes"])


@transaction.atomic
def create_schedule(*, name: str, library_id: str, library_name: str = "", enabled: bool = True,
                    **timing) -> Schedule:
    """A schedule and its beat row. ``timing``: schedule_type and cron_expression or interval_minutes."""
    check(timing, creating=True)
    schedule_id = uuid.uuid4()
    now = clock.now().replace(microsecond=0)
    task = PeriodicTask.objects.create(
        name=_task_name(name, schedule_id), task=TASK, args=json.dumps([str(schedule_id)]), enabled=enabled,
        last_run_at=now,  # the base of the first next_run (beat counts an interval from here too)
        queue=settings.PREVIEWS_QUEUE or None,  # beat sends it where the previews workers listen
        description=f"Generate previews of library {library_name or library_id} (schedule {name}).",
        **_timing(timing, None))
    schedule = Schedule.objects.create(id=schedule_id, name=name, library_id=library_id, library_name=library_name,
                                       periodic_task=task, created_at=now)
    logger.info("Schedule %s (%s) created for library %s: %s", name, schedule_id, library_id,
                as_dict(schedule).get("cron_expression") or f"every {as_dict(schedule).get('interval_minutes')} min")
    return schedule


@transaction.atomic
def update_schedule(schedule: Schedule, values: dict) -> Schedule:
    """Any subset of name, library_id (+ library_name), schedule_type, cron_expression, interval_minutes,
    enabled; written to the schedule and its beat row together, or not at all."""
    check(values, creating=False)
    task = PeriodicTask.objects.select_for_update().get(pk=schedule.periodic_task_id)
    changed = []
    for field in ("name", "library_id", "library_name"):
        if field in values and getattr(schedule, field) != values[field]:
            setattr(schedule, field, values[field])
            changed.append(field)
    if {"schedule_type", "cron_expression", "interval_minutes"} & set(values):
        timing = _timing(values, task)
        if (timing["crontab"], timing["interval"]) != (task.crontab, task.interval):
            task.crontab, task.interval = timing["crontab"], timing["interval"]
            task.last_run_at = clock.now().replace(microsecond=0)  # the new timing counts from now, as beat will
            changed.append("timing")
    if "enabled" in values and task.enabled != bool(values["enabled"]):
        task.enabled = bool(values["enabled"])
        if task.enabled and task.interval_id:
            task.last_run_at = clock.now().replace(microsecond=0)  # re-enabled: the next run is an interval from now, not at once
        changed.append("enabled")
    task.name = _task_name(schedule.name, schedule.pk)
    task.description = f"Generate previews of library {schedule.library_name or schedule.library_id} " \
                       f"(schedule {schedule.name})."
    task.save()
    schedule.save()
    schedule.periodic_task = task
    logger.info("Schedule %s (%s) updated: %s", schedule.name, schedule.pk, ", ".join(changed) or "nothing")
    return schedule


@transaction.atomic
def delete_schedule(schedule: Schedule) -> None:
    task_id = schedule.periodic_task_id
    schedule.delete()
    PeriodicTask.objects.filter(pk=task_id).delete()
    logger.info("Schedule %s (%s) deleted", schedule.name, schedule.pk)


def start(schedule_id, *, by: str = "beat") -> tuple[Job | None, bool]:
    """A job for the schedule's library: ``(job, True)``; or ``(the job still pending or running on that
    library, False)``; ``(None, False)`` when the schedule is gone. The caller queues a new job's start."""
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().filter(pk=schedule_id).first()
        if schedule is None:
            logger.warning("Schedule %s is gone; nothing started", schedule_id)
            return None, False
        running = Job.objects.filter(library_id=schedule.library_id, status__in=Job.ACTIVE).order_by(
            "created_at").first()
        if running is not None:
            logger.info("Schedule %s (%s): job %s is still %s on library %s; not starting another", schedule.name,
                        by, running.pk, running.status, schedule.library_id)
            return running, False
        job = services.create_job(library_id=schedule.library_id, library_name=schedule.library_name)
        Schedule.objects.filter(pk=schedule.pk).update(last_job=job)
        logger.info("Schedule %s (%s) started job %s on library %s", schedule.name, by, job.pk,
                    schedule.library_id)
        return job, True
