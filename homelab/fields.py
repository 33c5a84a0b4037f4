"""EncryptedTextField: the one field type for every stored password, API key or token."""
from django.db import models

from . import crypto
from .logging import register_secret


class EncryptedTextField(models.TextField):
    """Stores Fernet ciphertext; Python code sees plaintext. Empty values stay empty (nothing to hide).

    Decrypted values are registered with the logging filter, so they are masked if they ever reach a log;
    a subclass whose value is only partly secret (a URL with credentials in it) names those parts in
    ``secrets_of``.
    """

    description = "Text encrypted at rest with Fernet"

    def secrets_of(self, value: str):
        return [value]

    def _register(self, value: str) -> None:
        for secret in self.secrets_of(value):
            register_secret(secret)

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        plaintext = crypto.decrypt(value, where=f"{self.model._meta.label}.{self.name}")
        self._register(plaintext)
        return plaintext

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        self._register(value)
        return crypto.encrypt(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        if not prepared:
            value = self.get_prep_value(value)
        return value


def encrypted_fields():
    """Every (model, field) pair that stores an EncryptedTextField."""
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field


def check_decryptable() -> None:
    """Raise DecryptionError, naming the column, when a stored value cannot be decrypted with the
    configured keys. Run at start-up so a wrong key is a clear message, not a traceback in a request."""
    from django.db import connection

    qn = connection.ops.quote_name
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for model, field in encrypted_fields():
            if model._meta.db_table not in existing:
                continue
            cursor.execute(
                f"SELECT {qn(field.column)} FROM {qn(model._meta.db_table)} WHERE {qn(field.column)} <> '' LIMIT 1"
            )
            row = cursor.fetchone()
            if row:
                crypto.decrypt(row[0], where=f"{model._meta.label}.{field.name}")
