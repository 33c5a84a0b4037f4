"""The link's own url / username / password / verify_tls columns go: the linked Service holds them (0003)."""
import homelab.fields
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("epg_remote", "0003_credentials_to_services"),
    ]

    operations = [
        # blank defaults first, so that undoing this migration can add the columns back to existing rows
        migrations.AlterField(model_name="dispatcharrlink", name="url",
                              field=models.CharField(default="", max_length=500, verbose_name="URL")),
        migrations.AlterField(model_name="dispatcharrlink", name="username",
                              field=models.CharField(default="", max_length=150)),
        migrations.AlterField(model_name="dispatcharrlink", name="password",
                              field=homelab.fields.EncryptedTextField(default="")),
        migrations.RemoveField(model_name="dispatcharrlink", name="url"),
        migrations.RemoveField(model_name="dispatcharrlink", name="username"),
        migrations.RemoveField(model_name="dispatcharrlink", name="password"),
        migrations.RemoveField(model_name="dispatcharrlink", name="verify_tls"),
        migrations.AddConstraint(
            model_name="dispatcharrlink",
            constraint=models.UniqueConstraint(fields=("service",), name="epg_remote_unique_service"),
        ),
    ]
