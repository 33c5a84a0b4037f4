"""The beat row that sweeps items of lost workers back to the queue (editable in the admin)."""
from django.db import migrations

NAME = "Previews: retry items of lost workers"


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={"task": "previews.sweep_stale", "interval": every, "expire_seconds": 120,
                  "description": "Items whose worker stopped beating go back to the queue (or fail after "
                                 "PREVIEWS_ITEM_ATTEMPTS); jobs with nothing left are finished."},
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("previews", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
