"""Rows of the remote Dispatcharr links (Teamarr's "Automatically Refresh EPG in Dispatcharr after Creation").

One ``DispatcharrLink`` per remote Dispatcharr instance, which is an ``integrations.models.Service`` (its URL and
encrypted credentials live there, DESIGN.md). After /output/epg.xml is regenerated, every enabled
link gets a push: ``POST /api/epg/import/ {"id": epg_id}`` on the remote, then polling until the remote
refresh ends. The row keeps the outcome (``last_result`` / ``last_message``), the time of the last success
(``last_sync``) and the count of consecutive authentication failures, past which the link disables itself.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models
from homelab import clock, events
from homelab.validators import http_url_problem

DEFAULT_OUTPUT_FILENAME = "epg.xml"
EVENTS_CHANNEL = "epg"  # the epg app's channel; push outcomes are "dispatcharr_push" events


REMOTE_URL_MESSAGES = {
    "port": "Enter a valid URL with a port between 1 and 65535.",
    "scheme": "The URL must start with http:// or https://.",
    "host": "The URL must name a host.",
}


def validate_remote_url(value: str) -> None:
    """http(s) with a host and, when given, a port in 1..65535 (Teamarr: "URL format validation (http/https,
    valid port)")."""
    problem = http_url_problem(value)
    if problem:
        raise ValidationError(REMOTE_URL_MESSAGES[problem], code="invalid")
    parts = urlsplit(value)
    if parts.username or parts.password:
        raise ValidationError("Put the credentials in username and password, not in the URL.", code="invalid")


def normalize_url(value: str) -> str:
    return (value or "").strip().rstrip("/")


class DispatcharrLink(models.Model):
    class Result(models.TextChoices):
        NEVER = "", "never pushed"
        RUNNING = "running", "running"
        SUCCESS = "success", "success"
        ERROR = "error", "error"
        TIMEOUT = "timeout", "timeout"
        RETRYING = "retrying", "retrying"
        DISABLED = "disabled", "disabled"

    name = models.CharField(max_length=100, blank=True, help_text="A label for this Dispatcharr instance.")
    enabled = models.BooleanField(
        default=False, help_text="Push a refresh to this Dispatcharr after each regeneration of the guide output."
    )
    service = models.ForeignKey(
        "integrations.Service", on_delete=models.SET_NULL, null=True, blank=True, related_name="dispatcharr_links",
        help_text="The Dispatcharr instance: its URL and encrypted credentials live on this integrations Service "
                  "(typed in here it is a manual Service of type dispatcharr; one synced from Traefik can be picked).",
    )
    output_filename = models.CharField(
        max_length=255, default=DEFAULT_OUTPUT_FILENAME,
        help_text="The file name of this project's guide as the remote Dispatcharr's EPG source URL ends "
                  "(used to discover the EPG source).",
    )
    epg_id = models.PositiveIntegerField("EPG source id", null=True, blank=True,
                                         help_text="The remote EPG source to refresh (discovered by file name).")
    epg_name = models.CharField("EPG source name", max_length=255, blank=True)

    last_sync = models.DateTimeField(null=True, blank=True, help_text="End of the last successful remote refresh.")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_result = models.CharField(max_length=16, choices=Result.choices, default=Result.NEVER, blank=True)
    last_message = models.TextField(blank=True)
    last_duration = models.FloatField(null=True, blank=True, help_text="Seconds the last remote refresh took.")
    auth_failures = models.PositiveIntegerField("consecutive authentication failures", default=0)

    # Job state of the push (DESIGN.md, "Work"): one push per link at a time, claimed with a conditional UPDATE.
    pushing_since = models.DateTimeField(null=True, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False,
                                        help_text="Touched by the running push every few seconds (homelab.jobs).")
    push_pending = models.BooleanField(default=False, editable=False,
                                       help_text="The output changed again while a push ran: push once more.")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = "Dispatcharr link"
        constraints = [
            models.UniqueConstraint(fields=["service"], name="epg_remote_unique_service"),
        ]

    def __str__(self):
        label = self.name or self.url or f"Dispatcharr link {self.pk}"
        return f"{label} ({self.username})" if self.username else label

    def clean(self):
        self.output_filename = (self.output_filename or "").strip()

    # The remote's address and credentials, read from the linked Service (written through services.py).
    @property
    def url(self) -> str:
        return normalize_url(self.service.target_url) if self.service else ""

    @property
    def username(self) -> str:
        return self.service.api_username if self.service else ""

    @property
    def password(self) -> str:
        return self.service.api_password if self.service else ""

    @property
    def verify_tls(self) -> bool:
        return self.service.verify_ssl if self.service else True

    def unusable_reason(self) -> str:
        """Why nothing can be pushed to this link's Service ("" when something can)."""
        if self.service is None:
            return ("No Dispatcharr service is linked (it was deleted): pick a service or enter the URL and "
                    "credentials again.")
        if not self.service.enabled:
            return f"The service '{self.service.name}' is disabled in integrations: not pushing."
        return ""

    @property
    def is_pushing(self) -> bool:
        return self.pushing_since is not None

    def record(self, result: str, message: str, **fields) -> None:
        """Write an outcome to the row (only the named columns, so a concurrent admin edit is not undone) and
        publish it as a ``dispatcharr_push`` event on the epg channel."""
        self.last_result = result
        self.last_message = message
        self.last_attempt_at = clock.now()
        for name, value in fields.items():
            setattr(self, name, value)
        self.save(update_fields=["last_result", "last_message", "last_attempt_at", "updated_at", *fields])
        events.publish(EVENTS_CHANNEL, "dispatcharr_push", {
            "link": self.pk, "result": self.last_result, "message": self.last_message, "enabled": self.enabled,
            "last_sync": self.last_sync,
        })
