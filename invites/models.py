"""Rows of the invites app (Wizarr): media servers, their libraries and users, invitations, the audit log."""
from __future__ import annotations

import secrets
import string

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper

from homelab import clock

CODE_ALPHABET = string.ascii_uppercase + string.digits
CODE_LENGTH = 10


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class MediaServer(models.Model):
    """A Plex, Jellyfin or Emby server; its URL and API key / token live in the linked integrations Service."""

    class Type(models.TextChoices):
        PLEX = "plex", "Plex"
        JELLYFIN = "jellyfin", "Jellyfin"
        EMBY = "emby", "Emby"

    name = models.CharField(max_length=200)
    server_type = models.CharField(max_length=16, choices=Type.choices)
    service = models.ForeignKey("integrations.Service", on_delete=models.PROTECT, related_name="media_servers",
                                help_text="Holds the server's URL and its encrypted API key (Plex: token).")
    external_url = models.CharField(max_length=500, blank=True, help_text="The address users open; shown on the join page.")
    machine_identifier = models.CharField(max_length=100, blank=True, help_text="Plex: the server's machine id.")
    owns_service = models.BooleanField(default=False, editable=False,
                                       help_text="The Service was made for this server (deleted with it).")
    verified = models.BooleanField(default=False)
    allow_downloads = models.BooleanField(default=False)
    allow_live_tv = models.BooleanField(default=False)
    allow_mobile_uploads = models.BooleanField(default=False)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_message = models.TextField(blank=True, help_text="What the last verify / scan / sync said.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.name} ({self.server_type})"

    @property
    def server_url(self) -> str:
        return self.service.target_url


class Library(models.Model):
    server = models.ForeignKey(MediaServer, on_delete=models.CASCADE, related_name="libraries")
    external_id = models.CharField(max_length=200, help_text="Jellyfin folder Id / Plex section key.")
    guid = models.CharField(max_length=200, blank=True, help_text="Emby grants folders by this Guid.")
    name = models.CharField(max_length=300)

    class Meta:
        ordering = ["server_id", "name"]
        verbose_name_plural = "libraries"
        constraints = [models.UniqueConstraint(fields=["server", "external_id"], name="invites_library_unique")]

    def __str__(self):
        return f"{self.name} ({self.server.name})"


class Invitation(models.Model):
    code = models.CharField(max_length=10)
    created = models.DateTimeField(default=clock.now)
    expires = models.DateTimeField(null=True, blank=True, help_text="Empty: the invitation never expires.")
    duration = models.PositiveIntegerField(null=True, blank=True,
                                           help_text="Days an account made with it lives; empty: no expiry.")
    unlimited = models.BooleanField(default=False, help_text="Reusable: more than one person may join with it.")
    max_uses = models.PositiveIntegerField(null=True, blank=True,
                                           help_text="Reusable invitations: at most this many joins (empty: no limit).")
    used_count = models.PositiveIntegerField(default=0)
    servers = models.ManyToManyField(MediaServer, related_name="invitations")
    libraries = models.ManyToManyField(Library, blank=True, related_name="invitations",
                                       help_text="None: every library of its servers.")
    allow_downloads = models.BooleanField(default=False)
    allow_live_tv = models.BooleanField(default=False)
    allow_mobile_uploads = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [models.UniqueConstraint(Upper("code"), name="invites_invitation_code_ci_unique")]

    def __str__(self):
        return self.code

    @property
    def limit(self) -> int | None:
        """How many joins it allows (None: no limit)."""
        if not self.unlimited:
            return 1
        return self.max_uses

    @property
    def used_up(self) -> bool:
        return self.limit is not None and self.used_count >= self.limit

    def is_expired(self, now=None) -> bool:
        return self.expires is not None and self.expires <= (now or clock.now())

    @property
    def status(self) -> str:
        if self.used_up:
            return "used"
        if self.is_expired():
            return "expired"
        return "pending"

    @property
    def duration_label(self) -> str:
        return "unlimited" if self.duration is None else str(self.duration)

    def link(self) -> str:
        return f"/j/{self.code}"


class RemoteUser(models.Model):
    """An account on a media server (made by a join, or found by a sync)."""

    server = models.ForeignKey(MediaServer, on_delete=models.CASCADE, related_name="users")
    external_id = models.CharField(max_length=200)
    username = models.CharField(max_length=200)
    email = models.CharField(max_length=300, blank=True)
    share_id = models.CharField(max_length=100, blank=True, help_text="Plex: the shared-server id on plex.tv.")
    expires = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=clock.now)
    disabled = models.BooleanField(default=False)
    invitation = models.ForeignKey(Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="users")
    last_error = models.TextField(blank=True, help_text="Why the last expiry action failed (retried next run).")
    expiry_claimed_at = models.DateTimeField(null=True, blank=True, editable=False,
                                             help_text="Set while an expiry action runs (one at a time).")

    class Meta:
        ordering = ["server_id", "username"]
        constraints = [models.UniqueConstraint(fields=["server", "external_id"], name="invites_remoteuser_unique")]

    def __str__(self):
        return f"{self.username} on {self.server.name}"


class InvitationUse(models.Model):
    """One join with an invitation: every user of a reusable invitation is recorded."""

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="uses")
    username = models.CharField(max_length=200)
    email = models.CharField(max_length=300, blank=True)
    used_at = models.DateTimeField(default=clock.now)
    users = models.ManyToManyField(RemoteUser, blank=True, related_name="invitation_uses")

    class Meta:
        ordering = ["used_at", "id"]

    def __str__(self):
        return f"{self.invitation.code} by {self.username}"


class AuditEntry(models.Model):
    """What was done to an account and why (expiry, admin actions)."""

    at = models.DateTimeField(default=clock.now)
    action = models.CharField(max_length=30)
    server_name = models.CharField(max_length=200, blank=True)
    username = models.CharField(max_length=200, blank=True)
    message = models.TextField(blank=True)
    actor = models.CharField(max_length=150, blank=True, help_text="Who: a user name, or 'expiry'.")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.username}"


EXPIRY_ACTIONS = ("delete", "disable")


def expiry_action() -> str:
    action = settings.INVITES_EXPIRY_ACTION.strip().lower()
    return action if action in EXPIRY_ACTIONS else "delete"
