"""The beat row that frees claims lost with their worker, for every job model (homelab.jobs.register);
editable in the admin."""
from django.db import migrations


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=30, period="seconds")
    PeriodicTask.objects.get_or_create(
        name="Jobs: free claims lost with their worker",
        defaults={"task": "homelab.sweep_jobs", "interval": every, "expire_seconds": 60,
                  "description": "Running jobs whose heartbeat is older than JOB_HEARTBEAT_STALE go to error; "
                                 "stale downloads in <data dir>/tmp are removed."},
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name="Jobs: free claims lost with their worker").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("homelab", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
