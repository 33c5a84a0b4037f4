"""The beat rows of the invites app (editable in the admin): the expiry sweep every minute, the user sync every
30 minutes."""
from django.db import migrations

ROWS = [
    ("Invites: expire accounts (every minute)", "invites.sweep_expired", 1, "minutes", 55,
     "Backstop of the expiry task queued for each account: deletes or disables every account past its expiry."),
    ("Invites: sync users from the media servers", "invites.sync_users", 30, "minutes", 1500,
     "Reads each verified server's users; a failed or empty answer changes nothing."),
]


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, every, period, expires, description in ROWS:
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": interval, "enabled": True, "expire_seconds": expires,
                                 "description": description})


def remove(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, *_ in ROWS:
        PeriodicTask.objects.filter(name=name, task=task).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("invites", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
