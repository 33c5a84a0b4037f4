"""Cross-cutting rows: API keys and the site's own secrets (the web token)."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models

from . import clock
from .fields import EncryptedTextField


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class APIKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class APIKey(models.Model):
    """An API key (``X-API-Key``). Only the SHA-256 of the key is stored; the key is shown once."""

    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False, help_text="First characters, to recognise a key.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True, help_text="Unticked keys are refused (soft delete).")

    objects = APIKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def generate(cls, *, name: str, user) -> tuple["APIKey", str]:
        """Create a key; returns the row and the raw key, which is never stored."""
        raw = secrets.token_urlsafe(32)
        key = cls.objects.create(name=name, key_hash=hash_key(raw), prefix=raw[:8], created_by=user)
        return key, raw

    @classmethod
    def lookup(cls, raw: str) -> "APIKey | None":
        """The key (with its creator loaded) whose hash matches, or None.

        This runs on every X-API-Key request, so it uses two raw queries: compiling the equivalent
        ``select_related`` query costs ~0.7 ms of Python on a small machine, running the SQL ~0.02 ms."""
        digest = hash_key(raw)
        qn = connection.ops.quote_name
        User = get_user_model()
        key = next(iter(cls.objects.raw(
            f"SELECT * FROM {qn(cls._meta.db_table)} WHERE {qn('key_hash')} = %s", [digest])), None)
        if key is None or not hmac.compare_digest(key.key_hash, digest):
            return None
        key.created_by = next(iter(User.objects.raw(
            f"SELECT * FROM {qn(User._meta.db_table)} WHERE {qn(User._meta.pk.column)} = %s", [key.created_by_id])))
        return key

    def touch(self) -> None:
        """Record use, at most once per API_KEY_TOUCH_INTERVAL so that reads stay cheap."""
        now = clock.now()
        if self.last_used_at and now - self.last_used_at < settings.API_KEY_TOUCH_INTERVAL:
            return
        APIKey.objects.filter(pk=self.pk).update(last_used_at=now)
        self.last_used_at = now

    def revoke(self) -> None:
        self.is_active = False
        self.save(update_fields=["is_active"])


class SiteSecret(models.Model):
    """A named secret of this installation, encrypted at rest (the generated web token)."""

    WEB_TOKEN = "web_token"

    name = models.CharField(max_length=50, unique=True)
    value = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name
