"""The beat row that frees pushes whose worker was lost (no heartbeat), editable in the admin."""
from django.db import migrations

NAME = "EPG remote: free lost Dispatcharr pushes"


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={"task": "epg_remote.sweep_lost_pushes", "interval": every, "expire_seconds": 60,
                  "description": "Pushes whose heartbeat is older than JOB_HEARTBEAT_STALE go to error."},
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("epg_remote", "0005_heartbeat"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
