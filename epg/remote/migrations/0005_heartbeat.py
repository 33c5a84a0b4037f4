from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("epg_remote", "0004_drop_link_credentials"),
    ]

    operations = [
        migrations.AddField(
            model_name="dispatcharrlink",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, editable=False, null=True,
                                       help_text="Touched by the running push every few seconds (homelab.jobs)."),
        ),
    ]
