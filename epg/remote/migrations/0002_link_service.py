"""A Dispatcharr link points at an integrations Service (its URL and credentials move there in 0003)."""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("epg_remote", "0001_initial"),
        ("integrations", "0004_auth_type_locked"),
    ]

    operations = [
        # removed first, so that undoing 0004 (its columns come back blank) does not trip it
        migrations.RemoveConstraint(model_name="dispatcharrlink", name="epg_remote_unique_url_username"),
        migrations.AddField(
            model_name="dispatcharrlink",
            name="service",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                related_name="dispatcharr_links", to="integrations.service",
                help_text="The Dispatcharr instance: its URL and encrypted credentials live on this integrations "
                          "Service (typed in here it is a manual Service of type dispatcharr; one synced from "
                          "Traefik can be picked).",
            ),
        ),
    ]
