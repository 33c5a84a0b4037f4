"""A heartbeat on each source for its running import; the old "reset stuck imports" beat row goes (the one
``homelab.sweep_jobs`` row frees lost claims of every job model, homelab 0002)."""
from django.db import migrations, models


def drop_old_sweep(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name="EPG: reset stuck imports").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("epg", "0006_source_url_any_host"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="epgsource",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, editable=False, help_text="Touched every few seconds by the running import.", null=True),
        ),
        migrations.RunPython(drop_old_sweep, migrations.RunPython.noop),
    ]
