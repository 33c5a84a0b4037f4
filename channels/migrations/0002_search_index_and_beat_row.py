"""PostgreSQL: a trigram (GIN) index on Channel.search, so that ``search`` (a substring, in any script) is an
index scan at 200,000 channels. SQLite reads the folded column as it is (a scan of one short column).

The beat row that refreshes stale providers (and frees claims of lost workers) every few minutes."""
import logging

from django.conf import settings
from django.db import migrations, transaction

logger = logging.getLogger("channels.migrations")
TASK_NAME = "channels: refresh stale providers"


def create_search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception as exc:  # not allowed to create extensions: search still works, as a scan
            logger.warning("pg_trgm is not available (%s); channel search will scan instead of using an index", exc)
            return
        cursor.execute("CREATE INDEX IF NOT EXISTS channels_ch_search_trgm ON channels_channel "
                       "USING gin (search gin_trgm_ops)")


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS channels_ch_search_trgm")


def create_beat_row(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every = max(1, int(settings.CHANNELS_STALE_CHECK_MINUTES))
    schedule, _ = IntervalSchedule.objects.get_or_create(every=every, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={"task": "channels.refresh_stale", "interval": schedule, "enabled": True, "expire_seconds": 600,
                  "description": "Refresh the IPTV providers whose catalogue is older than their TTL."})


def drop_beat_row(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(create_search_index, drop_search_index),
        migrations.RunPython(create_beat_row, drop_beat_row),
    ]
