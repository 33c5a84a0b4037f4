"""The beat row that resets imports left running by a lost worker (editable in the admin)."""
from django.db import migrations


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=10, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="EPG: reset stuck imports",
        defaults={"task": "epg.sweep_stuck", "interval": every, "expire_seconds": 600,
                  "description": "Imports still fetching/parsing past the task time limit go to error."},
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name="EPG: reset stuck imports").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("epg", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
