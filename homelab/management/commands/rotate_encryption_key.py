from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from homelab import crypto
from homelab.fields import encrypted_fields


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field under a new primary key. With a key file, the new key is written "
        "first and the old ones kept after it; with HOMELAB_ENCRYPTION_KEYS, the new value to set is printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--new-key", help="Use this Fernet key instead of generating one.")

    def handle(self, *args, new_key=None, **options):
        old_keys = crypto.configured_keys()
        new_key = new_key or Fernet.generate_key().decode()
        try:
            Fernet(new_key.encode())
        except (ValueError, TypeError):
            raise CommandError("--new-key is not a valid Fernet key.")
        keys = [new_key] + [k for k in old_keys if k != new_key]
        rotator = MultiFernet([Fernet(k.encode()) for k in keys])
        qn = connection.ops.quote_name
        total = 0
        with transaction.atomic(), connection.cursor() as cursor:
            for model, field in encrypted_fields():
                table, column, pk_column = qn(model._meta.db_table), qn(field.column), qn(model._meta.pk.column)
                # Raw ciphertext: the ORM would decrypt it on the way out.
                cursor.execute(f"SELECT {pk_column}, {column} FROM {table} WHERE {column} <> ''")
                for pk, token in cursor.fetchall():
                    try:
                        rotated = rotator.rotate(token.encode()).decode()
                    except InvalidToken:
                        raise CommandError(
                            f"Cannot decrypt {model._meta.label}.{field.name} (pk={pk}) with the configured keys; "
                            "nothing was changed."
                        )
                    cursor.execute(f"UPDATE {table} SET {column} = %s WHERE {pk_column} = %s", [rotated, pk])
                    total += 1
            if settings.HOMELAB_ENCRYPTION_KEYS:
                self.stdout.write(
                    "Set HOMELAB_ENCRYPTION_KEYS to this value (new key first) before the next start:\n"
                    + ",".join(keys)
                )
            else:
                crypto.write_key_file(settings.HOMELAB_ENCRYPTION_KEY_FILE, keys)
                self.stdout.write(f"Wrote the new primary key to {settings.HOMELAB_ENCRYPTION_KEY_FILE}.")
        crypto.reset_cache()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {total} value(s) under the new key."))
