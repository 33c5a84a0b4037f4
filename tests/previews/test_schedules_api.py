"""Schedules through the API: cron and interval create / list / update / run / delete, stored as
django-celery-beat rows; next_run in UTC against a moved clock; 404 NOT_FOUND and 400 VALIDATION_ERROR."""
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from django_celery_beat.models import PeriodicTask

from previews import schedule_tasks, schedules
from previews.models import Job, Schedule

pytestmark = pytest.mark.django_db

CRON_KEYS = {"id", "name", "library_id", "schedule_type", "cron_expression", "enabled", "next_run"}
INTERVAL_KEYS = CRON_KEYS - {"cron_expression"} | {"interval_minutes"}
BASE = datetime(2024, 1, 15, 10, 30, tzinfo=timezone.utc)


@pytest.fixture
def at_base(clock):
    """The clock at 2024-01-15 10:30 UTC (the contract's example day)."""
    clock.travel((BASE - clock.now()).total_seconds())
    return clock


def _create(client, **body):
    response = client.post("/previews/api/schedules", body, format="json")
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"id", "success"} and response.json()["success"] is True
    return response.json()["id"]


def _listed(client):
    response = client.get("/previews/api/schedules")
    assert response.status_code == 200
    return {s["id"]: s for s in response.json()["schedules"]}


def test_a_cron_schedule_is_created_listed_with_its_next_run_and_stored_as_a_beat_row(client, configured, at_base):
    sid = _create(client, name="Nightly Movies", library_id="1", schedule_type="cron", cron_expression="0 2 * * *")
    row = _listed(client)[sid]
    assert set(row) == CRON_KEYS
    assert row == {"id": sid, "name": "Nightly Movies", "library_id": "1", "schedule_type": "cron",
                   "cron_expression": "0 2 * * *", "enabled": True, "next_run": "2024-01-16T02:00:00Z"}
    task = Schedule.objects.get(pk=sid).periodic_task
    assert (task.task, json.loads(task.args), task.enabled) == ("previews.run_schedule", [sid], True)
    assert (task.crontab.minute, task.crontab.hour, task.interval) == ("0", "2", None)
    assert str(task.crontab.timezone) == "UTC"
    assert Schedule.objects.get(pk=sid).library_name == "Movies"  # taken from Plex


def test_next_run_follows_the_beat_rows_last_run(client, configured, at_base):
    sid = _create(client, name="Nightly", library_id="1", schedule_type="cron", cron_expression="0 2 * * *")
    at_base.travel(16 * 3600)  # 02:30 the next day: beat ran it at 02:00
    PeriodicTask.objects.filter(previews_schedule=sid).update(last_run_at=BASE.replace(day=16, hour=2, minute=0))
    assert _listed(client)[sid]["next_run"] == "2024-01-17T02:00:00Z"


def test_a_due_schedule_that_beat_has_not_run_yet_shows_now(client, configured, at_base):
    sid = _create(client, name="Nightly", library_id="1", schedule_type="cron", cron_expression="30 10 * * *")
    at_base.travel(2 * 86400)  # beat was down: it starts the missed run at its next tick
    before = at_base.now().replace(microsecond=0)
    shown = datetime.fromisoformat(_listed(client)[sid]["next_run"])
    assert before <= shown <= at_base.now()


def test_an_interval_schedule_counts_from_its_creation_then_from_its_last_run(client, configured, at_base):
    sid = _create(client, name="Every 4 Hours", library_id="2", schedule_type="interval", interval_minutes=240)
    row = _listed(client)[sid]
    assert set(row) == INTERVAL_KEYS
    assert (row["interval_minutes"], row["next_run"]) == (240, "2024-01-15T14:30:00Z")
    task = Schedule.objects.get(pk=sid).periodic_task
    assert (task.interval.every, task.interval.period, task.crontab) == (240, "minutes", None)
    PeriodicTask.objects.filter(pk=task.pk).update(last_run_at=BASE + timedelta(hours=4, minutes=1))
    assert _listed(client)[sid]["next_run"] == "2024-01-15T18:31:00Z"


def test_put_updates_any_subset_and_the_beat_row_follows(client, configured, at_base):
    sid = _create(client, name="Nightly", library_id="1", schedule_type="cron", cron_expression="0 2 * * *")
    response = client.put(f"/previews/api/schedules/{sid}", {"enabled": False}, format="json")
    assert response.status_code == 200 and response.json() == {"success": True}
    row = _listed(client)[sid]
    assert (row["enabled"], row["next_run"]) == (False, None)
    assert PeriodicTask.objects.get(previews_schedule=sid).enabled is False

    client.put(f"/previews/api/schedules/{sid}", {"enabled": True, "schedule_type": "interval",
                                                 "interval_minutes": 30, "name": "Half-hourly",
                                                 "library_id": "2"}, format="json")
    row = _listed(client)[sid]
    assert row == {"id": sid, "name": "Half-hourly", "library_id": "2", "schedule_type": "interval",
                   "interval_minutes": 30, "enabled": True, "next_run": "2024-01-15T11:00:00Z"}
    task = PeriodicTask.objects.get(previews_schedule=sid)
    assert (task.crontab, task.interval.every) == (None, 30)
    assert Schedule.objects.get(pk=sid).library_name == "TV Shows"

    client.put(f"/previews/api/schedules/{sid}", {"cron_expression": "15 3 * * 1", "schedule_type": "cron"},
               format="json")
    assert _listed(client)[sid]["cron_expression"] == "15 3 * * 1"
    assert _listed(client)[sid]["next_run"] == "2024-01-22T03:15:00Z"  # the next Monday


def test_run_now_makes_a_job_that_the_jobs_api_lists(client, configured, django_capture_on_commit_callbacks):
    sid = _create(client, name="Nightly", library_id="1", schedule_type="cron", cron_expression="0 2 * * *")
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(f"/previews/api/schedules/{sid}/run")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"success", "job_id"} and body["success"] is True
    assert len(queued) == 1  # the job's start task
    jobs = client.get("/previews/api/jobs").json()["jobs"]
    assert [(j["id"], j["library_id"], j["library_name"], j["status"]) for j in jobs] == \
        [(body["job_id"], "1", "Movies", "pending")]
    assert Schedule.objects.get(pk=sid).last_job_id == uuid.UUID(body["job_id"])


def test_a_schedule_whose_job_still_runs_does_not_start_a_second_on_the_library(client, configured,
                                                                               django_capture_on_commit_callbacks):
    sid = _create(client, name="Often", library_id="1", schedule_type="interval", interval_minutes=1)
    other = _create(client, name="Also movies", library_id="1", schedule_type="cron", cron_expression="* * * * *")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        first = schedule_tasks.run_schedule(sid)
    assert len(queued) == 1
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert schedule_tasks.run_schedule(sid) == first  # beat again: the job is still pending
        assert schedule_tasks.run_schedule(other) == first  # another schedule, same library
        assert client.post(f"/previews/api/schedules/{sid}/run").json()["job_id"] == first
    assert queued == [] and Job.objects.count() == 1
    Job.objects.filter(pk=first).update(status="completed")
    assert schedule_tasks.run_schedule(sid) != first and Job.objects.count() == 2


def test_delete_removes_the_schedule_and_its_beat_row(client, configured):
    sid = _create(client, name="Nightly", library_id="1", schedule_type="cron", cron_expression="0 2 * * *")
    task_id = Schedule.objects.get(pk=sid).periodic_task_id
    response = client.delete(f"/previews/api/schedules/{sid}")
    assert response.status_code == 200 and response.json() == {"success": True}
    assert _listed(client) == {} and not PeriodicTask.objects.filter(pk=task_id).exists()
    assert schedule_tasks.run_schedule(sid) is None  # a beat message already sent finds nothing


def test_a_beat_row_edited_into_a_date_that_never_comes_shows_no_next_run(client, configured):
    from django_celery_beat.models import CrontabSchedule

    sid = _create(client, name="Nightly", library_id="1", schedule_type="cron", cron_expression="0 2 * * *")
    never = CrontabSchedule.objects.create(minute="0", hour="0", day_of_month="31", month_of_year="2",
                                           day_of_week="*", timezone="UTC")
    PeriodicTask.objects.filter(previews_schedule=sid).update(crontab=never)
    row = _listed(client)[sid]
    assert (row["cron_expression"], row["next_run"]) == ("0 0 31 2 *", None)


def test_deleting_the_beat_row_deletes_the_schedule(client, configured):
    sid = _create(client, name="Nightly", library_id="1", schedule_type="cron", cron_expression="0 2 * * *")
    PeriodicTask.objects.filter(previews_schedule=sid).delete()
    assert _listed(client) == {}


@pytest.mark.parametrize("method,suffix", [("put", ""), ("delete", ""), ("post", "/run")])
@pytest.mark.parametrize("schedule_id", [str(uuid.uuid4()), "schedule-1", "9" * 40])
def test_unknown_schedules_are_404_not_found(client, method, suffix, schedule_id):
    response = getattr(client, method)(f"/previews/api/schedules/{schedule_id}{suffix}", {}, format="json")
    assert response.status_code == 404
    assert response.json() == {"error": f"Schedule {schedule_id} not found.", "code": "NOT_FOUND"}


@pytest.mark.parametrize("body,field", [
    ({"schedule_type": "cron", "cron_expression": "61 2 * * *"}, "cron_expression"),
    ({"schedule_type": "cron", "cron_expression": "0 2 * *"}, "cron_expression"),
    ({"schedule_type": "cron", "cron_expression": "every night"}, "cron_expression"),
    ({"schedule_type": "cron", "cron_expression": "0 0 31 2 *"}, "cron_expression"),  # never comes (was a 500)
    ({"schedule_type": "cron", "cron_expression": "*/0 * * * *"}, "cron_expression"),
    ({"schedule_type": "cron"}, "cron_expression"),
    ({"schedule_type": "interval", "interval_minutes": 0}, "interval_minutes"),
    ({"schedule_type": "interval", "interval_minutes": -5}, "interval_minutes"),
    ({"schedule_type": "interval", "interval_minutes": 10 ** 12}, "interval_minutes"),
    ({"schedule_type": "interval", "interval_minutes": "soon"}, "interval_minutes"),
    ({"schedule_type": "interval"}, "interval_minutes"),
    ({"schedule_type": "weekly", "interval_minutes": 5}, "schedule_type"),
    ({"schedule_type": "interval", "interval_minutes": 5, "library_id": "42"}, "library_id"),
    ({"schedule_type": "interval", "interval_minutes": 5, "library_id": "3"}, "library_id"),  # music
    ({"schedule_type": "interval", "interval_minutes": 5, "library_id": "../1"}, "library_id"),
    ({"schedule_type": "interval", "interval_minutes": 5, "enabled": "maybe"}, "enabled"),
    ({"schedule_type": "interval", "interval_minutes": 5, "name": ""}, "name"),
])
def test_bad_schedules_are_400_validation_error_naming_the_field_and_nothing_is_stored(client, configured, body,
                                                                                      field):
    response = client.post("/previews/api/schedules", {"name": "S", "library_id": "1", **body}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "VALIDATION_ERROR" and field in response.json()["error"]
    assert not Schedule.objects.exists() and not PeriodicTask.objects.filter(task=schedules.TASK).exists()


@pytest.mark.parametrize("body,field", [
    ({"cron_expression": "0 25 * * *"}, "cron_expression"),
    ({"schedule_type": "interval"}, "interval_minutes"),
    ({"interval_minutes": 0}, "interval_minutes"),
    ({"library_id": "42"}, "library_id"),
    ({"enabled": None}, "enabled"),
])
def test_a_bad_update_changes_nothing(client, configured, body, field):
    sid = _create(client, name="Nightly", library_id="1", schedule_type="cron", cron_expression="0 2 * * *")
    before = _listed(client)[sid]
    response = client.put(f"/previews/api/schedules/{sid}", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR"
    assert field in response.json()["error"]
    assert _listed(client)[sid] == before


def test_schedules_need_credentials(api_client, db):
    assert api_client.get("/previews/api/schedules").status_code == 401
    response = api_client.post("/previews/api/schedules", {}, format="json")
    assert response.status_code == 401 and response.json()["code"] == "UNAUTHORIZED"


def test_a_schedule_for_a_library_cannot_be_checked_while_plex_is_down(client, configured):
    _plex_goes_down()
    response = client.post("/previews/api/schedules", {"name": "S", "library_id": "1", "schedule_type": "cron",
                                                       "cron_expression": "0 2 * * *"}, format="json")
    assert response.status_code == 424 and response.json()["code"] == "PLEX_UNAVAILABLE"
    assert not Schedule.objects.exists()


def _plex_goes_down():
    """The Plex URL now answers nothing (a closed port), at once."""
    from previews import services
    from tests.live import free_port

    services.save_settings({"plex_url": f"http://127.0.0.1:{free_port()}"})
