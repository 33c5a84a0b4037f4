"""Schedules through the admin: create / change / run / delete a cron and an interval schedule, and an edit of
the django-celery-beat row in its own admin is what the API shows (one row, two views)."""
import pytest
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from previews.models import Job, Schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(admin_user):
    browser = Client()
    browser.force_login(admin_user)
    return browser


def _form(**values):
    form = {"name": "Nightly", "library_id": "1", "library_name": "Movies", "schedule_type": "cron",
            "cron_expression": "0 2 * * *", "interval_minutes": "", "enabled": "on"}
    form.update(values)
    return {k: v for k, v in form.items() if v is not None}


def test_a_cron_schedule_made_in_the_admin_is_a_beat_row_the_api_lists(admin, client):
    response = admin.post(reverse("admin:previews_schedule_add"), _form())
    assert response.status_code == 302, response.content.decode()[:3000]
    schedule = Schedule.objects.get()
    task = schedule.periodic_task
    assert (task.task, task.crontab.minute, task.crontab.hour, task.enabled) == ("previews.run_schedule", "0", "2",
                                                                              True)
    listed = client.get("/previews/api/schedules").json()["schedules"]
    assert [(s["name"], s["schedule_type"], s["cron_expression"]) for s in listed] == [("Nightly", "cron",
                                                                                         "0 2 * * *")]
    page = admin.get(reverse("admin:previews_schedule_changelist")).content.decode()
    assert "Nightly" in page and "cron 0 2 * * *" in page


def test_an_interval_schedule_is_changed_then_deleted_in_the_admin(admin, client):
    admin.post(reverse("admin:previews_schedule_add"), _form(schedule_type="interval", cron_expression="",
                                                             interval_minutes="90"))
    schedule = Schedule.objects.get()
    assert client.get("/previews/api/schedules").json()["schedules"][0]["interval_minutes"] == 90
    change = reverse("admin:previews_schedule_change", args=[schedule.pk])
    assert 'value="90"' in admin.get(change).content.decode()  # the form reads the beat row
    response = admin.post(change, _form(schedule_type="interval", interval_minutes="15", enabled=None,
                                        name="Quarter-hourly"))
    assert response.status_code == 302
    row = client.get("/previews/api/schedules").json()["schedules"][0]
    assert (row["name"], row["interval_minutes"], row["enabled"], row["next_run"]) == ("Quarter-hourly", 15, False,
                                                                                      None)
    task_id = schedule.periodic_task_id
    admin.post(reverse("admin:previews_schedule_delete", args=[schedule.pk]), {"post": "yes"})
    assert not Schedule.objects.exists() and not PeriodicTask.objects.filter(pk=task_id).exists()


@pytest.mark.parametrize("values,message", [
    ({"cron_expression": "0 99 * * *"}, "Invalid cron expression"),
    ({"schedule_type": "interval", "cron_expression": "", "interval_minutes": "0"}, "greater than or equal to 1"),
    ({"schedule_type": "interval", "cron_expression": ""}, "An interval schedule needs interval_minutes"),
])
def test_the_admin_form_refuses_bad_timing(admin, values, message):
    response = admin.post(reverse("admin:previews_schedule_add"), _form(**values))
    assert response.status_code == 200 and message in response.content.decode()
    assert not Schedule.objects.exists() and not PeriodicTask.objects.filter(task="previews.run_schedule").exists()


def test_an_edit_of_the_beat_row_in_its_own_admin_shows_in_the_api(admin, client, configured):
    sid = client.post("/previews/api/schedules", {"name": "Nightly", "library_id": "1", "schedule_type": "cron",
                                                  "cron_expression": "0 2 * * *"}, format="json").json()["id"]
    task = PeriodicTask.objects.get(previews_schedule=sid)
    crontab = CrontabSchedule.objects.create(minute="45", hour="4", day_of_week="*", day_of_month="*",
                                             month_of_year="*", timezone="UTC")
    page = admin.get(reverse("admin:django_celery_beat_periodictask_change", args=[task.pk]))
    assert page.status_code == 200
    form = {"name": task.name, "regtask": task.task, "task": task.task, "crontab": crontab.pk, "args": task.args,
            "kwargs": "{}", "expire_seconds": "", "priority": "", "queue": "", "exchange": "", "routing_key": "",
            "headers": "{}", "description": task.description}  # "enabled" left off: unticked
    response = admin.post(reverse("admin:django_celery_beat_periodictask_change", args=[task.pk]), form)
    assert response.status_code == 302, response.content.decode()[:3000]
    row = client.get("/previews/api/schedules").json()["schedules"][0]
    assert (row["cron_expression"], row["enabled"], row["next_run"]) == ("45 4 * * *", False, None)


def test_run_now_in_the_admin_makes_a_job(admin, django_capture_on_commit_callbacks):
    admin.post(reverse("admin:previews_schedule_add"), _form())
    schedule = Schedule.objects.get()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = admin.post(reverse("admin:previews_schedule_changelist"),
                              {"action": "run_now", "_selected_action": [str(schedule.pk)]}, follow=True)
    job = Job.objects.get()
    assert f"Nightly: job {job.pk} started." in response.content.decode() and len(queued) == 1
