"""Rows of the epg app: guide sources, their channels and programmes.

Imports write a new *generation* of a source's channels (and their programmes) beside the one being served;
the swap is one transaction that points ``EPGSource.generation`` at the new one. Readers only ever see channels
whose generation is their source's current one (``EPGChannel.objects.current()``), so until the swap the old
guide is served, and a failed import leaves it untouched.
"""
from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import DatabaseError, models, transaction
from django.db.models import F

from homelab import clock
from homelab.fields import EncryptedTextField
from homelab.http import url_secrets
from homelab.validators import http_url_problem

# the longest refresh interval, in hours (a year): beat computes "last run + interval", which must stay a date
MAX_REFRESH_INTERVAL_HOURS = 8760


def validate_guide_url(value: str) -> None:
    """An http(s) URL with a host and a valid port. Unlike Django's URLValidator, any host name is accepted,
    also one without a dot (a container by its compose service name: ``http://teamarr:9195/teamarr.xml``)."""
    if not value:
        return
    invalid = ValidationError("Enter a valid URL.", code="invalid")
    problem = http_url_problem(value)
    if problem == "scheme":
        raise ValidationError("Only http and https URLs are supported.", code="invalid")
    if problem or any(c.isspace() or ord(c) < 32 for c in value):
        raise invalid
    host = urlsplit(value).hostname
    if ":" in host:  # an IPv6 literal
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise invalid from None
    elif not all(c.isalnum() or c in "-._" for c in host):
        raise invalid


class GuideURLField(EncryptedTextField):
    """A guide URL: encrypted at rest (panels put credentials in it: ``?username=&password=``, ``user:pw@``),
    and its credential parts (not the whole URL, which messages show redacted) known to the log filter whenever
    it is read or written."""

    def secrets_of(self, value: str):
        return url_secrets(value)


class EPGSource(models.Model):
    class SourceType(models.TextChoices):
        URL = "url", "URL"
        FILE = "file", "File"
        DUMMY = "dummy", "Dummy"

    class Status(models.TextChoices):
        IDLE = "idle", "Idle"
        FETCHING = "fetching", "Fetching"
        PARSING = "parsing", "Parsing"
        SUCCESS = "success", "Success"
        ERROR = "error", "Error"
        DISABLED = "disabled", "Disabled"

    RUNNING = [Status.FETCHING, Status.PARSING]

    name = models.CharField(max_length=255, unique=True)
    source_type = models.CharField(max_length=10, choices=SourceType.choices, default=SourceType.URL)
    url = GuideURLField("URL", blank=True, default="", validators=[validate_guide_url],
                        help_text="XMLTV URL (gzip, xz or zip accepted). Stored encrypted; shown masked to non-staff.")
    file = models.FileField(upload_to="epg/uploads/", blank=True, default="", max_length=500,
                            help_text="An uploaded XMLTV file (source type 'file').")
    file_path = models.CharField(max_length=1000, blank=True, default="",
                                 help_text="Or a path to an XMLTV file under the data dir (source type 'file').")
    is_active = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.IDLE)
    status_changed_at = models.DateTimeField(default=clock.now)
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False,
                                        help_text="Touched every few seconds by the running import.")
    last_message = models.TextField(blank=True, default="")
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent of the current import.")
    refresh_interval = models.PositiveIntegerField(
        default=24, validators=[MaxValueValidator(MAX_REFRESH_INTERVAL_HOURS)],
        help_text=f"Hours between automatic refreshes (at most {MAX_REFRESH_INTERVAL_HOURS}, a year); 0 turns them off.")
    priority = models.IntegerField(default=0, validators=[MinValueValidator(-(2 ** 31)), MaxValueValidator(2 ** 31 - 1)],
                                   help_text="Higher wins when several sources have the same channel id.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(null=True, blank=True, help_text="Time of the last successful refresh.")
    generation = models.PositiveIntegerField(default=0, help_text="The guide generation being served.")
    run_token = models.CharField(max_length=32, blank=True, default="", editable=False)
    channel_count = models.PositiveIntegerField(default=0)
    programme_count = models.PositiveIntegerField(default=0)
    periodic_task = models.OneToOneField("django_celery_beat.PeriodicTask", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+", editable=False)

    class Meta:
        ordering = ["-priority", "id"]
        verbose_name = "EPG source"

    def __str__(self):
        return self.name

    @property
    def last_refresh(self):
        return self.updated_at

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING

    def clean(self):
        if self.source_type == self.SourceType.URL and not self.url:
            raise ValidationError({"url": "A URL source needs a URL."})
        if self.source_type == self.SourceType.FILE:
            if not self.file and not self.file_path:
                raise ValidationError({"file_path": "A file source needs an uploaded file or a file path."})
            if self.file_path:
                try:
                    resolve_data_path(self.file_path)
                except ValueError as exc:
                    raise ValidationError({"file_path": str(exc)}) from None

    # a change of these changes /output/epg.xml (when the source has a guide)
    OUTPUT_FIELDS = ("is_active", "priority")

    def follow_active(self) -> None:
        """The status rule: an inactive source says so (``disabled``), unless an import is running (it finishes,
        then stays as it ended); turned on again, it is ``idle``."""
        if not self.is_active and self.status not in self.RUNNING:
            self.status = self.Status.DISABLED
        elif self.is_active and self.status == self.Status.DISABLED:
            self.status = self.Status.IDLE

    def save(self, *args, **kwargs):
        """A full save applies the status rule (``save_settings`` applies it with a conditional UPDATE). The
        values read before it (``_old_values``) tell the post_save handler what changed."""
        if kwargs.get("update_fields") is None:
            self.follow_active()
        self._old_values = (type(self).objects.filter(pk=self.pk).values(*self.OUTPUT_FIELDS, "file").first()
                            if self.pk and not self._state.adding else None)
        super().save(*args, **kwargs)

    # the columns an operator edits; everything else on the row belongs to the import (status, progress,
    # generation, counts, updated_at ...), which may move it on at any moment
    SETTINGS = ("name", "source_type", "url", "file", "file_path", "is_active", "refresh_interval", "priority")

    def save_settings(self, fields) -> None:
        """Save an edit of an existing row: only the given setting columns, so that an import running meanwhile
        keeps what it wrote (a full save would put back the status, generation and counts read before it).
        Turning ``is_active`` off or on moves the status to or from ``disabled``, unless an import is running;
        the row is then re-read."""
        fields = [f for f in self.SETTINGS if f in set(fields)]
        if fields:
            try:
                with transaction.atomic():  # a savepoint: the transaction stays usable if no row was updated
                    self.save(update_fields=fields)
            except DatabaseError:
                if type(self).objects.filter(pk=self.pk).exists():
                    raise
                raise type(self).DoesNotExist(f"EPG source {self.pk} was deleted meanwhile.") from None
        if "is_active" in fields:
            rows = type(self).objects.filter(pk=self.pk).exclude(status__in=self.RUNNING)
            if self.is_active:
                rows.filter(status=self.Status.DISABLED).update(status=self.Status.IDLE)
            else:
                rows.update(status=self.Status.DISABLED)
        self.refresh_from_db()

    def local_path(self) -> Path:
        if self.file:
            return Path(self.file.path)
        return resolve_data_path(self.file_path)


def resolve_data_path(value: str) -> Path:
    """A path under the data dir (absolute, or relative to it); anything outside is refused."""
    base = Path(settings.DATA_DIR).resolve()
    path = Path(value)
    path = (path if path.is_absolute() else base / path).resolve()
    if path != base and base not in path.parents:
        raise ValueError(f"The file path must be under the data dir ({base}).")
    return path


class ChannelQuerySet(models.QuerySet):
    def current(self):
        """Channels of each source's served generation."""
        return self.filter(generation=F("source__generation"))


class EPGChannel(models.Model):
    """A guide channel (Dispatcharr's EPGData): one per tvg id per source and generation."""

    source = models.ForeignKey(EPGSource, on_delete=models.CASCADE, related_name="channels")
    generation = models.PositiveIntegerField(default=0)
    tvg_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True, default="")
    display_names = models.JSONField(default=list, blank=True)
    icon_url = models.CharField(max_length=2000, blank=True, default="")

    objects = ChannelQuerySet.as_manager()

    class Meta:
        verbose_name = "guide channel"
        constraints = [
            models.UniqueConstraint(fields=["source", "generation", "tvg_id"], name="epg_channel_unique_per_source"),
        ]
        indexes = [models.Index(fields=["tvg_id"], name="epg_channel_tvg_id")]

    def __str__(self):
        return f"{self.name or self.tvg_id} ({self.tvg_id})"


class Programme(models.Model):
    """A guide programme. Text columns are unbounded (guides carry long titles and URLs; nothing is cut)."""

    id = models.BigAutoField(primary_key=True)
    # No database FK constraint and no single-column index: programmes are only ever written by the import
    # (for channels it has just committed) and deleted with their channels, and a per-row FK trigger doubles
    # the cost of a 500,000-row COPY; (channel, start) below serves every lookup by channel.
    channel = models.ForeignKey(EPGChannel, on_delete=models.CASCADE, related_name="programmes",
                                db_constraint=False, db_index=False)
    start = models.DateTimeField()
    # null only while an import is staging (a programme without ``stop`` ends where the next one starts)
    stop = models.DateTimeField(null=True)
    title = models.TextField()
    sub_title = models.TextField(blank=True, default="")
    description = models.TextField(blank=True, default="")
    categories = models.JSONField(default=list, blank=True)
    episode_xmltv_ns = models.TextField(blank=True, default="")
    episode_onscreen = models.TextField(blank=True, default="")
    season = models.PositiveIntegerField(null=True, blank=True)
    episode = models.PositiveIntegerField(null=True, blank=True)
    icon_url = models.TextField(blank=True, default="")
    rating = models.TextField(blank=True, default="")
    is_new = models.BooleanField(default=False)
    is_live = models.BooleanField(default=False)
    is_premiere = models.BooleanField(default=False)
    is_finale = models.BooleanField(default=False)

    class Meta:
        ordering = ["channel_id", "start"]
        indexes = [
            # the grid's window (start < to AND stop > from) is read channel by channel through this index; a
            # (start, stop) index was never chosen by PostgreSQL for it and cost a third of the COPY time
            models.Index(fields=["channel", "start"], name="epg_prog_channel_start"),
        ]

    def __str__(self):
        return f"{self.title} @ {self.start:%Y-%m-%d %H:%M}"
