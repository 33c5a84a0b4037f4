"""Thin Celery tasks of the invites app: ids in, a service does the work."""
from __future__ import annotations

from celery import shared_task
from django.db import transaction

from . import expiry, services
from .models import MediaServer


@shared_task(name="invites.expire_user", acks_late=True)
def expire_user(user_id: int):
    """Queued for the account's expiry moment (eta); does nothing when it is not due (extended meanwhile)."""
    return expiry.expire_user(user_id)


@shared_task(name="invites.sweep_expired", expires=55)
def sweep_expired():
    """Every minute (beat): expires what is due (the backstop for lost tasks and servers that were down), then
    queues a task at the expiry moment of each account expiring before the next run."""
    done = expiry.sweep()
    for user_id, eta in expiry.upcoming():
        expire_user.apply_async((user_id,), eta=eta)
    return done


@shared_task(name="invites.sync_users", expires=3000)
def sync_users():
    """The beat schedule: every verified server's users."""
    return services.sync_all_users()


@shared_task(name="invites.scan_server")
def scan_server(server_id: int):
    server = MediaServer.objects.select_related("service").filter(pk=server_id).first()
    if server is None:
        return None
    return services.scan_server(server).message


def queue_expiry(user) -> None:
    """The expiry task at the account's expiry moment, once the row is committed, when that is minutes away
    (later ones are queued by the sweep shortly before)."""
    if not expiry.should_queue(user.expires):
        return
    user_id, eta = user.pk, user.expires
    transaction.on_commit(lambda: expire_user.apply_async((user_id,), eta=eta))
