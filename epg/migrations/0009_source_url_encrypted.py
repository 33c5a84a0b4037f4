"""Source URLs are encrypted at rest (they may carry a panel's username and password): the column becomes text,
then each stored plaintext URL is encrypted in place, with raw SQL (the historical model would try to decrypt the
plaintext it reads). Nothing filters, orders or indexes on the column. Reversible."""
import epg.models
from django.db import migrations

FERNET_PREFIX = "gAAAAA"


def _rows(connection):
    with connection.cursor() as cur:
        cur.execute("SELECT id, url FROM epg_epgsource WHERE url <> ''")
        return cur.fetchall()


def _write(connection, pk, value):
    with connection.cursor() as cur:
        cur.execute("UPDATE epg_epgsource SET url = %s WHERE id = %s", [value, pk])


def encrypt_urls(apps, schema_editor):
    from homelab import crypto

    connection = schema_editor.connection
    for pk, url in _rows(connection):
        if not url.startswith(FERNET_PREFIX):  # a URL never starts so; a value already encrypted does
            _write(connection, pk, crypto.encrypt(url))


def decrypt_urls(apps, schema_editor):
    from homelab import crypto

    connection = schema_editor.connection
    for pk, url in _rows(connection):
        if url.startswith(FERNET_PREFIX):
            _write(connection, pk, crypto.decrypt(url, where="epg.EPGSource.url"))


class Migration(migrations.Migration):

    dependencies = [
        ('epg', '0008_bounded_intervals'),
    ]

    operations = [
        migrations.AlterField(
            model_name='epgsource',
            name='url',
            field=epg.models.GuideURLField(blank=True, default='', help_text='XMLTV URL (gzip, xz or zip accepted). Stored encrypted; shown masked to non-staff.', validators=[epg.models.validate_guide_url], verbose_name='URL'),
        ),
        migrations.RunPython(encrypt_urls, decrypt_urls),
    ]
