"""Rows of the previews app (plex-generate-previews): one settings row, the setup wizard's state, and jobs
with one row per library item.

The Plex server's URL and token live in an ``integrations.Service`` (service_type plex, auth plex) that the
settings row links to, so the token is stored encrypted in the one credential vault and a Plex service synced
from Traefik can be picked instead.
"""
from __future__ import annotations

import uuid

from django.db import models

from homelab import clock

DEFAULT_INTERVAL = 5
DEFAULT_QUALITY = 4


class PreviewSettings(models.Model):
    """The single settings row (``PreviewSettings.load()``)."""

    plex_service = models.ForeignKey(
        "integrations.Service", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The Plex Media Server: its API URL and token (X-Plex-Token) are kept on the service.")
    plex_name = models.CharField(max_length=200, blank=True)
    plex_config_folder = models.CharField(
        max_length=1000, blank=True,
        help_text="Plex's data folder as this machine sees it (the one holding Media/localhost/...).")
    selected_libraries = models.JSONField(default=list, blank=True)
    media_path = models.CharField(max_length=1000, blank=True)
    plex_videos_path_mapping = models.TextField(
        blank=True, help_text="Path prefix(es) as Plex sees the videos; several separated by ';'.")
    plex_local_videos_path_mapping = models.TextField(
        blank=True, help_text="The same prefix(es) as this machine sees them, in the same order.")
    gpu_threads = models.PositiveIntegerField(default=0, help_text="ffmpeg processes on the GPU at once.")
    cpu_threads = models.PositiveIntegerField(default=2, help_text="ffmpeg processes on the CPU at once.")
    thumbnail_interval = models.PositiveIntegerField(default=DEFAULT_INTERVAL, help_text="Seconds between frames.")
    thumbnail_quality = models.PositiveIntegerField(default=DEFAULT_QUALITY,
                                                    help_text="JPEG quality, 1 (best) to 10.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "preview settings"
        verbose_name_plural = "preview settings"

    def __str__(self):
        return "Preview settings"

    @classmethod
    def load(cls) -> "PreviewSettings":
        row = cls.objects.select_related("plex_service").order_by("pk").first()
        if row is None:
            row, _ = cls.objects.get_or_create(pk=1)
        return row

    @property
    def plex_url(self) -> str:
        return self.plex_service.target_url if self.plex_service else ""

    @property
    def plex_token(self) -> str:
        return self.plex_service.api_key if self.plex_service else ""


class SetupState(models.Model):
    """The setup wizard: the step reached, what it gathered, and whether it was completed."""

    step = models.PositiveIntegerField(default=0)
    data = models.JSONField(default=dict, blank=True)
    completed = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "setup state"

    def __str__(self):
        return "Setup complete" if self.completed else f"Setup at step {self.step}"

    @classmethod
    def load(cls) -> "SetupState":
        row = cls.objects.order_by("pk").first()
        if row is None:
            row, _ = cls.objects.get_or_create(pk=1)
        return row


class Job(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"

    ACTIVE = (Status.PENDING, Status.RUNNING)
    TERMINAL = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    library_id = models.CharField(max_length=50)
    library_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    progress = models.PositiveIntegerField(default=0, help_text="Percent of the items done.")
    total_items = models.PositiveIntegerField(default=0)
    completed_items = models.PositiveIntegerField(default=0)
    failed_items = models.PositiveIntegerField(default=0)
    skipped_items = models.PositiveIntegerField(default=0)
    cancelled_items = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=clock.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.library_name or self.library_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class JobItem(models.Model):
    """One video of a job: claimed by exactly one task (a conditional UPDATE pending -> running)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"
        SKIPPED = "skipped"
        CANCELLED = "cancelled"

    DONE = (Status.COMPLETED, Status.FAILED, Status.SKIPPED, Status.CANCELLED)

    class Kind(models.TextChoices):
        NONE = "", "not started"
        GPU = "gpu"
        CPU = "cpu"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="items")
    plex_id = models.CharField("Plex item id", max_length=50)
    title = models.CharField(max_length=500, blank=True)
    plex_path = models.TextField(blank=True)
    local_path = models.TextField(blank=True)
    media_hash = models.CharField(max_length=64, blank=True, db_index=True)
    bif_path = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    worker_kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.NONE, blank=True)
    worker_name = models.CharField(max_length=200, blank=True, help_text="The Celery worker that ran it.")
    attempts = models.PositiveIntegerField(default=0)
    frames = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    missing_file = models.BooleanField(default=False, help_text="The mapped local file does not exist.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "pk"]
        constraints = [models.UniqueConstraint(fields=["job", "plex_id", "media_hash"], name="previews_item_once")]

    def __str__(self):
        return self.title or self.plex_id


# --- part 2: schedules and webhooks (issue 10) ------------------------------------------------------------

class Schedule(models.Model):
    """A library scanned on a schedule. The timing (crontab or interval), ``enabled`` and the last run live on
    the linked django-celery-beat ``PeriodicTask`` (task ``previews.run_schedule``), the one row beat reads: an
    edit in the admin of either row, or through the API, is seen by the other (``previews.schedules``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=150)
    library_id = models.CharField(max_length=50)
    library_name = models.CharField(max_length=200, blank=True)
    periodic_task = models.OneToOneField("django_celery_beat.PeriodicTask", on_delete=models.CASCADE,
                                         related_name="previews_schedule", editable=False)
    last_job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 editable=False)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["name", "created_at"]

    def __str__(self):
        return self.name


class WebhookEvent(models.Model):
    """A new file announced by Plex, Sonarr or Radarr: found in Plex (retried while Plex has not indexed it),
    then made into a one-item job."""

    class Source(models.TextChoices):
        PLEX = "plex"
        SONARR = "sonarr"
        RADARR = "radarr"

    class Status(models.TextChoices):
        WAITING = "waiting", "waiting for Plex"
        QUEUED = "queued", "job started"
        FAILED = "failed"

    source = models.CharField(max_length=10, choices=Source.choices)
    event_type = models.CharField(max_length=50, blank=True)
    title = models.CharField(max_length=500, blank=True)
    file_path = models.TextField(blank=True, help_text="The file as the sender names it.")
    plex_id = models.CharField("Plex item id", max_length=50, blank=True)
    plex_type = models.CharField(max_length=20, blank=True, help_text="Plex's metadata type (Plex webhooks).")
    library_id = models.CharField(max_length=50, blank=True)
    library_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.source}: {self.title or self.file_path or self.plex_id}"
