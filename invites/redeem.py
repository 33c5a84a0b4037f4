"""Joining with an invitation (``/j/<code>``).

The use is claimed with one conditional UPDATE before any account is made, so two people redeeming a single-use
code at once get exactly one account between them; a failure gives the use back. An invitation for several
servers creates the account on each; when one fails, the accounts already made are removed again and the user
is told which server failed, and no row is written: nothing is half-recorded.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F

from homelab import clock, events

from .clients import Flags, ServerError, UsernameTaken, client_for
from .models import Invitation, InvitationUse, MediaServer, RemoteUser
from .services import audit, open_invitations_q

logger = logging.getLogger("invites.redeem")

MESSAGES = {
    "invalid": "This invitation code is not valid.",
    "expired": "This invitation has expired.",
    "used": "This invitation has already been used.",
    "no_server": "This invitation is not linked to any media server.",
    "withdrawn": "This invitation was withdrawn while your account was being made; nothing was kept.",
}


class JoinError(Exception):
    def __init__(self, message: str, kind: str = "server"):
        super().__init__(message)
        self.message = message
        self.kind = kind


def find(code: str) -> Invitation | None:
    code = (code or "").strip()
    if not code or len(code) > 64:
        return None
    return Invitation.objects.filter(code__iexact=code).prefetch_related("servers", "libraries").first()


def refusal(invitation: Invitation | None) -> JoinError | None:
    """Why this invitation admits nobody now (None: it is open)."""
    if invitation is None:
        return JoinError(MESSAGES["invalid"], "invalid")
    if invitation.used_up:
        return JoinError(MESSAGES["used"], "used")
    if invitation.is_expired():
        return JoinError(MESSAGES["expired"], "expired")
    if not invitation.servers.exists():
        return JoinError(MESSAGES["no_server"], "no_server")
    return None


def claim_use(invitation: Invitation) -> bool:
    return bool(Invitation.objects.filter(pk=invitation.pk).filter(open_invitations_q(clock.now()))
                .update(used_count=F("used_count") + 1))


def give_back(invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk, used_count__gt=0).update(used_count=F("used_count") - 1)


def libraries_for(invitation: Invitation, server) -> list:
    """The invitation's libraries on this server; all of the server's when it names none of them."""
    named = [lib for lib in invitation.libraries.all() if lib.server_id == server.pk]
    return named or list(server.libraries.all())


@dataclass
class Joined:
    users: list[RemoteUser] = field(default_factory=list)
    expires: object = None


def redeem(invitation: Invitation, *, username: str, password: str, email: str = "",
           plex_account: dict | None = None) -> Joined:
    """Create the account on every server of the invitation. Raises JoinError (nothing kept) on failure."""
    problem = refusal(invitation)
    if problem:
        raise problem
    servers = list(invitation.servers.select_related("service").order_by("id"))
    if any(s.server_type == "plex" for s in servers) and not plex_account:
        raise JoinError("Sign in with Plex first.", "plex")
    if not claim_use(invitation):
        raise refusal(Invitation.objects.filter(pk=invitation.pk).first()) or JoinError(MESSAGES["used"], "used")
    flags = Flags(downloads=invitation.allow_downloads, live_tv=invitation.allow_live_tv,
                  mobile_uploads=invitation.allow_mobile_uploads)
    made = []
    try:
        for server in servers:
            try:
                account = client_for(server).create_account(
                    username=username, password=password, email=email, libraries=libraries_for(invitation, server),
                    flags=flags, plex_account=plex_account)
            except UsernameTaken as exc:
                raise JoinError(exc.message, "taken") from None
            except ServerError as exc:
                hint = " Please try again in a few minutes." if exc.temporary else ""
                raise JoinError(f"Your account could not be created on {server.name}: {exc.message}.{hint}",
                                "server") from None
            made.append((server, account))
        try:
            joined = _record(invitation, made, username=username, email=email)
        except IntegrityError:  # the invitation (or a server) was deleted while the accounts were made
            raise JoinError(MESSAGES["withdrawn"], "invalid") from None
    except BaseException:
        _undo(made)
        give_back(invitation)
        raise
    logger.info("%s joined %s with invitation %s", username, ", ".join(s.name for s in servers), invitation.code)
    events.publish("invites", "user_joined", {"username": username, "invitation": invitation.code,
                                              "users": [u.pk for u in joined.users]})
    return joined


def _record(invitation, made, *, username, email) -> Joined:
    now = clock.now()
    expires = now + timedelta(days=invitation.duration) if invitation.duration else None
    with transaction.atomic():
        # the rows the new ones point at, locked: deleted meanwhile, nothing is kept (foreign keys are checked
        # only at commit, which may be a caller's)
        servers = {server.pk for server, _ in made}
        if not Invitation.objects.select_for_update().filter(pk=invitation.pk).exists() or \
                len(MediaServer.objects.select_for_update().filter(pk__in=servers)) != len(servers):
            raise JoinError(MESSAGES["withdrawn"], "invalid")
        use = InvitationUse.objects.create(invitation=invitation, username=username, email=email, used_at=now)
        users = []
        for server, account in made:
            user, _ = RemoteUser.objects.update_or_create(
                server=server, external_id=account.external_id,
                defaults={"username": account.username, "email": account.email or email, "share_id": account.share_id,
                          "expires": expires, "created": now, "disabled": False, "invitation": invitation,
                          "last_error": ""})
            users.append(user)
            audit("joined", user=user, message=f"Joined with invitation {invitation.code}")
        use.users.set(users)
    return Joined(users=users, expires=expires)


def _undo(made) -> None:
    for server, account in reversed(made):
        try:
            client_for(server).delete_account(RemoteUser(server=server, external_id=account.external_id,
                                                         username=account.username, share_id=account.share_id))
        except ServerError as exc:
            logger.error("Could not remove %s from %s after a failed join: %s", account.username, server.name,
                         exc.message)
