"""Reads of the invites app (views, admin)."""
from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch

from .models import Invitation, InvitationUse, Library, MediaServer, RemoteUser


def display(invitation: Invitation) -> dict:
    """display_name, server_names, uses_global_setting (the global name wins when set)."""
    names = [s.name for s in invitation.servers.all()]
    global_name = settings.INVITES_SERVER_NAME.strip()
    return {"display_name": global_name or ", ".join(names), "server_names": names,
            "uses_global_setting": bool(global_name)}


def invitations():
    return Invitation.objects.prefetch_related(
        "servers", "libraries", Prefetch("uses", queryset=InvitationUse.objects.order_by("used_at", "id"))
    ).order_by("id")  # as the contract lists them


def users():
    return RemoteUser.objects.select_related("server").order_by("id")


def libraries():
    return Library.objects.order_by("server_id", "id")


def servers():
    return MediaServer.objects.select_related("service").order_by("id")


def status() -> dict:
    states = [inv.status for inv in Invitation.objects.all()]
    return {"users": RemoteUser.objects.count(), "invites": len(states),
            "pending": states.count("pending"), "expired": states.count("expired")}
