"""Writes of the invites app: servers (verify, scan, sync), invitations, users (extend, delete).

Joining is in ``redeem.py``, expiry in ``expiry.py``. Services never queue tasks: they return what to queue.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from homelab import clock, events
from integrations.models import Service, unique_slug

from .clients import AUTH_MODES, ServerError, client_for
from .models import AuditEntry, Invitation, Library, MediaServer, RemoteUser, new_code

logger = logging.getLogger("invites.services")

SERVICE_TYPES = {"jellyfin": "jellyfin", "emby": "emby", "plex": "plex"}


class InvitesError(Exception):
    """A refused write, with a message for the user."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def audit(action: str, *, user=None, server=None, message: str = "", actor: str = "") -> AuditEntry:
    return AuditEntry.objects.create(
        action=action, username=getattr(user, "username", "") or "", actor=actor,
        server_name=getattr(server or getattr(user, "server", None), "name", "") or "", message=message)


# --- servers ----------------------------------------------------------------------------------

def _unique_service_name(name: str) -> str:
    candidate, n = name, 2
    while Service.objects.filter(name=candidate).exists():
        candidate = f"{name} ({n})"
        n += 1
    return candidate


def verify_server(server: MediaServer) -> dict:
    """Ask the server who it is with the stored key; records ``verified`` (and Plex's machine id)."""
    try:
        info = client_for(server).verify()
    except ServerError as exc:
        if server.pk:
            MediaServer.objects.filter(pk=server.pk).update(verified=False, last_message=exc.message)
        raise
    server.verified = True
    server.machine_identifier = info.get("machineIdentifier", server.machine_identifier) or ""
    server.last_message = "Verified"
    if server.pk:
        MediaServer.objects.filter(pk=server.pk).update(verified=True, machine_identifier=server.machine_identifier,
                                                        last_message=server.last_message)
    return info


def create_server(*, name: str, server_type: str, server_url: str = "", api_key: str = "", external_url: str = "",
                  service: Service | None = None, allow_downloads: bool = False, allow_live_tv: bool = False,
                  allow_mobile_uploads: bool = False) -> MediaServer:
    """Verify first (nothing is created when the server is unreachable or refuses the key), then store the
    server and its Service, then scan its libraries and users (a failed scan leaves the server in place)."""
    owns = service is None
    if service is None:
        service = Service(name=_unique_service_name(name), source=Service.Source.MANUAL,
                          service_type=SERVICE_TYPES[server_type], api_url=server_url, url=server_url,
                          api_key=api_key, api_auth_type=AUTH_MODES[server_type], api_auth_type_locked=True)
    server = MediaServer(name=name, server_type=server_type, service=service, external_url=external_url or "",
                         owns_service=owns, allow_downloads=allow_downloads, allow_live_tv=allow_live_tv,
                         allow_mobile_uploads=allow_mobile_uploads)
    try:
        verify_server(server)
    except ServerError as exc:
        raise InvitesError(exc.message) from None
    with transaction.atomic():
        if owns:
            service.slug = unique_slug(service.name)
            service.save()
        server.service = service
        server.save()
    scan_server(server)
    return server


def delete_server(server: MediaServer) -> None:
    service = server.service if server.owns_service else None
    with transaction.atomic():
        server.delete()
        if service is not None and not service.media_servers.exists():
            service.delete()


@dataclass
class ScanResult:
    libraries: int | None = None
    users: int | None = None
    problems: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        parts = []
        if self.libraries is not None:
            parts.append(f"{self.libraries} libraries")
        if self.users is not None:
            parts.append(f"{self.users} users")
        text = ("Scanned: " + ", ".join(parts)) if parts else "Nothing changed"
        return text + ("" if not self.problems else "; " + "; ".join(self.problems))


def scan_libraries(server: MediaServer) -> int:
    """Replace the server's libraries with what it reports. A failed or empty answer changes nothing
    (ServerError). Libraries gone from the server are dropped unless an invitation names them (dropping those
    would widen the invitation to every library)."""
    found = client_for(server).libraries()
    if not found:
        raise ServerError(f"{server.name} reported no libraries; nothing was changed")
    with transaction.atomic():
        seen = set()
        for lib in found:
            Library.objects.update_or_create(server=server, external_id=lib.external_id,
                                             defaults={"name": lib.name[:300], "guid": lib.guid[:200]})
            seen.add(lib.external_id)
        (Library.objects.filter(server=server).exclude(external_id__in=seen)
         .filter(invitations__isnull=True).delete())
    return len(found)


def sync_users(server: MediaServer) -> int:
    """Bring the server's accounts into RemoteUser rows. A failed or empty answer changes nothing (Wizarr once
    deleted every user on an empty Plex answer): the client raises ServerError. An answer listing only the
    administrators (or, on Plex, only other servers' friends) is a real "no users". Accounts gone from the server
    lose their row; new ones get one (no expiry)."""
    found = client_for(server).users()  # raises on a failed or empty answer
    now = clock.now()
    with transaction.atomic():
        by_id = {u.external_id: u for u in RemoteUser.objects.select_for_update().filter(server=server)}
        for account in found:
            row = by_id.pop(account.external_id, None)
            if row is None:
                RemoteUser.objects.create(server=server, external_id=account.external_id, username=account.username,
                                          email=account.email, share_id=account.share_id, disabled=account.disabled)
                continue
            changed = {k: v for k, v in (("username", account.username), ("disabled", account.disabled),
                                         ("email", account.email or row.email),
                                         ("share_id", account.share_id or row.share_id)) if getattr(row, k) != v}
            if changed:
                RemoteUser.objects.filter(pk=row.pk).update(**changed)
        # rows made by a join in the last minute may not be listed by the server yet
        recent = now - timedelta(minutes=1)
        RemoteUser.objects.filter(pk__in=[r.pk for r in by_id.values()
                                          if not (r.invitation_id and r.created > recent)]).delete()
        MediaServer.objects.filter(pk=server.pk).update(last_sync_at=now)
    return len(found)


def scan_server(server: MediaServer, *, libraries: bool = True, users: bool = True) -> ScanResult:
    """Libraries then users; each failure is recorded on the server's row and reported, never raised."""
    result = ScanResult()
    problems = []
    if libraries:
        try:
            result.libraries = scan_libraries(server)
        except ServerError as exc:
            problems.append(exc.message)
    if users:
        try:
            result.users = sync_users(server)
        except ServerError as exc:
            problems.append(exc.message)
    result.problems = tuple(problems)
    MediaServer.objects.filter(pk=server.pk).update(last_message=result.message[:2000])
    events.publish("invites", "server_scanned", {"id": server.pk, "name": server.name, "message": result.message})
    if problems:
        logger.warning("Scan of %s: %s", server.name, result.message)
    return result


def sync_all_users() -> dict[str, str]:
    """Every verified server's users (the beat schedule and GET /users)."""
    report = {}
    for server in MediaServer.objects.filter(verified=True).select_related("service"):
        try:
            report[server.name] = f"{sync_users(server)} users"
        except ServerError as exc:
            MediaServer.objects.filter(pk=server.pk).update(last_message=exc.message[:2000])
            logger.warning("User sync of %s failed: %s", server.name, exc.message)
            report[server.name] = exc.message
    return report


# --- invitations ------------------------------------------------------------------------------

def create_invitation(*, expires_in_days: int | None = None, duration: int | None = None, unlimited: bool = False,
                      max_uses: int | None = None, library_ids: list[int] | None = None,
                      server_ids: list[int] | None = None, allow_downloads: bool = False, allow_live_tv: bool = False,
                      allow_mobile_uploads: bool = False, code: str | None = None) -> Invitation:
    if server_ids:
        servers = list(MediaServer.objects.filter(pk__in=server_ids))
        missing = sorted(set(server_ids) - {s.pk for s in servers})
        if missing:
            raise InvitesError(f"Unknown server ids: {', '.join(map(str, missing))}")
    elif library_ids:
        # libraries named without servers: the servers holding them (every verified server would give the
        # others all of their libraries, which the caller did not name)
        servers = list(MediaServer.objects.filter(libraries__pk__in=library_ids).distinct())
    else:
        servers = list(MediaServer.objects.filter(verified=True))
        if not servers:
            raise InvitesError("No verified media server to invite to: add one first")
    libraries = []
    if library_ids:
        libraries = list(Library.objects.filter(pk__in=library_ids, server__in=servers))
        missing = sorted(set(library_ids) - {lib.pk for lib in libraries})
        if missing:
            raise InvitesError(f"Library ids not on the invitation's servers: {', '.join(map(str, missing))}")
    now = clock.now()
    for _ in range(5):
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    code=(code or new_code()).upper(), created=now,
                    expires=now + timedelta(days=expires_in_days) if expires_in_days else None,
                    duration=duration, unlimited=unlimited, max_uses=max_uses if unlimited else None,
                    allow_downloads=allow_downloads, allow_live_tv=allow_live_tv,
                    allow_mobile_uploads=allow_mobile_uploads)
                invitation.servers.set(servers)
                invitation.libraries.set(libraries)
                return invitation
        except IntegrityError:
            if code:
                raise InvitesError(f"The code {code.upper()} is already in use") from None
    raise InvitesError("Could not find a free code; try again")


# --- users ------------------------------------------------------------------------------------

def extend_user(user: RemoteUser, *, days: int, actor: str = "") -> RemoteUser:
    """Expiry moved ``days`` on from the current expiry (from now when there is none). An account disabled at
    its expiry (INVITES_EXPIRY_ACTION=disable) whose new expiry is ahead is enabled on its server again; when the
    server refuses, nothing changes (InvitesError, 502)."""
    now = clock.now()
    base = user.expires or now
    new_expiry = base + timedelta(days=days)
    if user.disabled and user.expires is not None and user.expires <= now < new_expiry:
        try:
            client_for(user.server).enable_account(user)
        except ServerError as exc:
            raise InvitesError(f"Could not enable {user.username} on {user.server.name}: {exc.message}", 502) from None
        user.disabled = False
        audit("enabled", user=user, actor=actor, message="Enabled on the server again (extended after its expiry)")
    user.expires = new_expiry
    user.last_error = ""
    user.save(update_fields=["expires", "last_error", "disabled"])
    audit("extended", user=user, message=f"Expiry extended by {days} days to {user.expires.isoformat()}", actor=actor)
    return user


def delete_user(user: RemoteUser, *, actor: str = "") -> None:
    """Delete the account on its server, then the row (a server that refuses keeps both)."""
    try:
        client_for(user.server).delete_account(user)
    except ServerError as exc:
        raise InvitesError(f"Could not delete {user.username} on {user.server.name}: {exc.message}", 502) from None
    audit("deleted", user=user, actor=actor, message="Deleted on the server")
    user.delete()


def open_invitations_q(now) -> Q:
    """Invitations that still admit a join: not expired, uses left."""
    uses_left = (Q(unlimited=False, used_count__lt=1) | Q(unlimited=True, max_uses__isnull=True)
                 | Q(unlimited=True, used_count__lt=F("max_uses")))
    return uses_left & (Q(expires__isnull=True) | Q(expires__gt=now))
