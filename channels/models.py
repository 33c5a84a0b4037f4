"""Rows of the channels app: IPTV providers and their channel catalogues.

A refresh writes a provider's new catalogue in one transaction (``channels.catalogue``): readers see the old
catalogue until it commits, and a failed refresh leaves it as it was. Each channel keeps its id across
refreshes and password changes: it is found again by ``key`` (the Xtream stream id, else a hash of the URL
without credentials), whose 64-bit hash ``key_hash`` is unique per provider.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from homelab import clock


def default_ttl() -> int:  # used by migration 0001 only
    return settings.CACHE_TTL_SECONDS


def default_verify_ssl() -> bool:  # used by migration 0001 only
    return settings.VERIFY_SSL


class Provider(models.Model):
    class Status(models.TextChoices):
        IDLE = "idle", "Idle"
        FETCHING = "fetching", "Fetching"
        PARSING = "parsing", "Parsing"
        SUCCESS = "success", "Success"
        ERROR = "error", "Error"

    class SourceType(models.TextChoices):
        XTREAM = "xtream", "Xtream Codes panel (Service: host, username, password)"
        M3U = "m3u", "M3U URL (Service: the playlist URL)"
        FILE = "file", "Uploaded M3U file"

    RUNNING = [Status.FETCHING, Status.PARSING]

    name = models.CharField(max_length=200, unique=True)
    source_type = models.CharField(max_length=10, choices=SourceType.choices, default=SourceType.XTREAM)
    service = models.ForeignKey(
        "integrations.Service", null=True, blank=True, on_delete=models.PROTECT, related_name="iptv_providers",
        help_text="Where the provider is and its credentials (service type xtream or m3u).")
    file = models.FileField(upload_to="channels/uploads/", blank=True, default="", max_length=500,
                            help_text="An uploaded playlist (source type 'file').")
    # blank (None): the setting (VERIFY_SSL, CACHE_TTL_SECONDS) as it is now, so that changing it reaches the
    # providers that did not choose otherwise (the default one from IPTV_HOST among them)
    verify_ssl = models.BooleanField("verify SSL", null=True, blank=True, default=None,
                                     choices=[(None, "as VERIFY_SSL"), (True, "yes"), (False, "no")])
    user_agent = models.CharField(max_length=300, blank=True, default="",
                                  help_text="User-Agent sent to the provider; blank = CHANNELS_USER_AGENT.")
    ttl_seconds = models.PositiveIntegerField("TTL (seconds)", null=True, blank=True, default=None,
                                              help_text="The catalogue is stale this long after a refresh; blank = "
                                                        "CACHE_TTL_SECONDS.")
    include_groups = models.TextField(blank=True, default="",
                                      help_text="Keep only groups matching one of these patterns (one per line, * and ?).")
    exclude_groups = models.TextField(blank=True, default="",
                                      help_text="Drop groups matching one of these patterns (one per line, * and ?).")
    enabled = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False, help_text="The provider of /iptv/login, /refresh and /status.")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.IDLE)
    progress = models.PositiveSmallIntegerField(default=0)
    last_message = models.TextField(blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    refreshed_at = models.DateTimeField(null=True, blank=True, help_text="Time of the last successful refresh.")
    channel_count = models.PositiveIntegerField(default=0)
    tvg_url = models.TextField("guide URL", blank=True, default="", help_text="x-tvg-url of the last playlist.")
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    generation = models.BigIntegerField(
        default=0, editable=False,
        help_text="Bumped whenever the served catalogue changes (a refresh or an import that wrote something, channels "
                  "deleted in the admin): what search results are kept under.")
    row_context = models.BigIntegerField(
        default=0, editable=False,
        help_text="Hash of what a row is built from besides its lines (the guide, the group patterns, the code's "
                  "row version) at the last refresh; while it holds, unchanged lines mean an unchanged row.")
    run_token = models.CharField(max_length=32, blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "name"]
        verbose_name = "IPTV provider"
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True),
                                    name="channels_one_default_provider"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING

    @property
    def ttl(self) -> int:
        """Seconds a catalogue stays fresh: the provider's own TTL, else CACHE_TTL_SECONDS."""
        return settings.CACHE_TTL_SECONDS if self.ttl_seconds is None else self.ttl_seconds

    @property
    def verifies_ssl(self) -> bool:
        """Whether the provider's certificate is checked: its own choice (yes or no) wins; blank, VERIFY_SSL and
        its Service's switch must both say yes."""
        if self.verify_ssl is not None:
            return self.verify_ssl
        return settings.VERIFY_SSL and (self.service_id is None or self.service.verify_ssl)

    @property
    def is_stale(self) -> bool:
        if self.refreshed_at is None:
            return True
        return clock.now() - self.refreshed_at > timedelta(seconds=self.ttl)

    @property
    def host(self) -> str:
        """Where the provider is, without credentials (for /status and the admin)."""
        from homelab.http import redact_url

        if self.source_type == self.SourceType.FILE:
            return Path(self.file.name).name if self.file else ""
        if self.service_id is None:
            return ""
        return redact_url(self.service.target_url) if self.service.target_url else ""

    def clean(self):
        if self.source_type == self.SourceType.FILE:
            if not self.file:
                raise ValidationError({"file": "A file provider needs an uploaded playlist."})
        elif self.service_id is None:
            raise ValidationError({"service": "An Xtream or M3U provider needs a Service (its URL and credentials)."})


class Channel(models.Model):
    class Category(models.TextChoices):
        TV = "tv", "TV"
        MOVIES = "movies", "Movies"
        SERIES = "series", "Series"
        OTHER = "other", "Other"

    class Match(models.TextChoices):
        NONE = "", "no guide"
        TVG_ID = "tvg_id", "by tvg-id"
        NAME = "name", "by name"

    id = models.BigAutoField(primary_key=True)
    # No database FK constraint: channels are only written by a refresh of their (claimed) provider and deleted
    # with it, and a per-row FK trigger adds a fifth to the COPY of a 200,000-entry catalogue
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="channels", db_index=False,
                                 db_constraint=False)
    key = models.CharField(max_length=64, help_text="xt:<kind>:<stream id>, else u:<hash of the URL without credentials>")
    key_hash = models.BigIntegerField(editable=False)
    content_hash = models.BigIntegerField(editable=False)
    source_hash = models.BigIntegerField(default=0, editable=False,
                                         help_text="Hash of the entry's lines as written (and its position): a repeat "
                                                   "refresh skips reading an entry whose lines have not changed.")
    position = models.PositiveIntegerField(default=0, help_text="Order in the playlist.")
    stream_id = models.BigIntegerField(null=True, blank=True)
    name = models.TextField()
    tvg_id = models.TextField(blank=True, default="")
    tvg_name = models.TextField(blank=True, default="")
    logo = models.TextField(blank=True, default="")
    group_title = models.TextField("group", blank=True, default="")
    category = models.CharField(max_length=8, choices=Category.choices, default=Category.OTHER)
    stream_type = models.CharField(max_length=8, blank=True, default="", help_text="live, movie or series")
    stream_url = models.TextField()
    chno = models.CharField("channel number", max_length=32, blank=True, default="")
    catchup = models.CharField(max_length=32, blank=True, default="")
    catchup_days = models.IntegerField(null=True, blank=True)
    catchup_source = models.TextField(blank=True, default="")
    user_agent = models.TextField(blank=True, default="")
    options = models.TextField(blank=True, default="", help_text="#EXTVLCOPT / #KODIPROP lines, as written.")
    search = models.TextField(blank=True, default="", editable=False,
                              help_text="name, tvg-name, tvg-id and group folded (case, accents, width).")
    epg_channel_id = models.TextField("guide channel", blank=True, default="",
                                      help_text="tvg-id of the matched guide channel (epg app).")
    epg_match = models.CharField(max_length=8, choices=Match.choices, blank=True, default="")

    class Meta:
        ordering = ["provider_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "key_hash"], name="channels_channel_key_per_provider"),
        ]
        indexes = [
            models.Index(fields=["provider", "position"], name="channels_ch_order"),
            models.Index(fields=["group_title"], name="channels_ch_group"),
        ]
        # PostgreSQL also has a trigram (GIN) index on ``search`` for substring search (migration 0002)

    def __str__(self):
        return self.name
