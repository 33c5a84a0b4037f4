"""Rows of the integrations app: the Service registry."""
from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.text import slugify

from homelab.fields import EncryptedTextField

from .catalogue import CATALOGUE

# one per mode registered in integrations.auth (tests/integrations/auth/test_registry.py checks it)
AUTH_TYPE_CHOICES = [
    ("", "unknown"),
    ("api_key", "API key"),
    ("bearer", "Bearer token (login)"),
    ("jwt", "JWT with refresh"),
    ("cookie", "Session cookie"),
    ("basic", "HTTP Basic"),
    ("jellyfin", "Jellyfin"),
    ("emby", "Emby"),
    ("plex", "Plex token"),
    ("transmission", "Transmission"),
    ("deluge", "Deluge (JSON-RPC)"),
    ("xtream", "Xtream Codes (username and password in the query)"),
    ("none", "None"),
]


class Service(models.Model):
    """A homelab service: where it is, what API it has, and the credentials to call it (encrypted)."""

    class Source(models.TextChoices):
        TRAEFIK = "traefik", "Traefik"
        DOCKER = "docker", "Docker"
        MANUAL = "manual", "Manual"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    url = models.CharField("public URL", max_length=500, blank=True,
                           help_text="From the router's host rule; blank for wildcard or regexp rules.")
    api_url = models.CharField("API URL", max_length=500, blank=True,
                               help_text="The Traefik service's first server URL, else the public URL. Editable.")
    api_url_locked = models.BooleanField(
        "keep API URL", default=False,
        help_text="Set when the API URL is edited by hand: sync_traefik then leaves it alone.")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    traefik_router = models.CharField(max_length=300, blank=True)
    traefik_service = models.CharField(max_length=300, blank=True)
    entry_points = models.JSONField(default=list, blank=True)
    host_rule = models.TextField(blank=True, help_text="The router rule as Traefik reports it.")
    labels = models.JSONField(default=dict, blank=True, help_text="homelab.api.* container labels.")
    service_type = models.CharField(max_length=50, blank=True,
                                    choices=[("", "unknown")] + [(k, k) for k in sorted(CATALOGUE)])
    enabled = models.BooleanField(default=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    seen = models.BooleanField(default=True, help_text="False once its router vanished from Traefik.")

    # API detection
    api_detected = models.BooleanField(default=False)
    api_base_path = models.CharField(max_length=200, blank=True)
    api_auth_type = models.CharField(max_length=16, blank=True, choices=AUTH_TYPE_CHOICES)
    api_auth_type_locked = models.BooleanField(
        "keep auth type", default=False,
        help_text="Set when the auth type is chosen by hand: detection then leaves it alone.")
    api_detection_method = models.CharField(max_length=16, blank=True)
    api_evidence = models.JSONField(default=dict, blank=True)
    api_detected_at = models.DateTimeField(null=True, blank=True)

    # Credentials (write-only in the API, masked in the admin)
    api_username = models.CharField(max_length=200, blank=True)
    api_password = EncryptedTextField(blank=True)
    api_key = EncryptedTextField(blank=True)
    api_key_header = models.CharField(max_length=100, blank=True, help_text="Header for the key; blank = catalogue default.")
    api_key_query = models.CharField(max_length=100, blank=True, help_text="Send the key as this query parameter instead.")
    api_auth_endpoint = models.CharField(max_length=300, blank=True, help_text="Custom login endpoint.")
    verify_ssl = models.BooleanField(default=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [("use_service_api", "Can write through the service proxy and run test / detect")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(self.name, exclude_pk=self.pk)
        super().save(*args, **kwargs)

    @property
    def has_credentials(self) -> bool:
        return bool(self.api_key or (self.api_username and self.api_password))

    @property
    def target_url(self) -> str:
        """Where calls go: the API URL, else the public URL."""
        return self.api_url or self.url

    def record_detection(self, result: dict) -> None:
        """Write a detection result (integrations.detection.DetectionResult.as_dict()) onto the row."""
        self.api_detected = result["detected"]
        self.api_base_path = result.get("base_path") or ""
        if not (self.api_auth_type_locked and self.api_auth_type):
            self.api_auth_type = result.get("auth_type") or ""
        self.api_detection_method = result.get("method") or ""
        self.api_evidence = result.get("evidence") or {}
        self.api_detected_at = timezone.now()
        if result.get("service_type") and not self.service_type:
            self.service_type = result["service_type"]

    DETECTION_FIELDS = ["api_detected", "api_base_path", "api_auth_type", "api_detection_method",
                        "api_evidence", "api_detected_at", "service_type", "updated_at"]


def unique_slug(name: str, *, exclude_pk=None) -> str:
    base = slugify(name.replace("@", "-"))[:180] or "service"
    slug, n = base, 2
    qs = Service.objects.all()
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    while qs.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug
