"""Model signal handlers: the refresh schedule follows each source's settings, and the output follows the
set of active sources. (A source's status follows ``is_active`` in the model itself: ``EPGSource.save``.)"""
import logging

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from . import services, tasks
from .models import EPGSource

logger = logging.getLogger("epg")


@receiver(post_save, sender=EPGSource)
def _sync(sender, instance: EPGSource, created, raw=False, **kwargs):
    if raw:
        return
    services.sync_periodic_task(instance)
    old = getattr(instance, "_old_values", None)
    if old and any(old[f] != getattr(instance, f) for f in EPGSource.OUTPUT_FIELDS) and instance.generation:
        tasks.queue_output()
    if old and old["file"] and old["file"] != (instance.file.name or ""):
        _remove_upload(instance.file.storage, old["file"])  # replaced by a new upload, or cleared


def _remove_upload(storage, name: str) -> None:
    """Delete an uploaded guide file once the change that dropped it is committed."""

    def remove():
        try:
            storage.delete(name)
        except OSError as exc:
            logger.warning("Could not delete the uploaded guide %s: %s", name, exc)

    transaction.on_commit(remove)


@receiver(post_delete, sender=EPGSource)
def _deleted(sender, instance: EPGSource, **kwargs):
    services.delete_periodic_task(instance)
    if instance.file:
        _remove_upload(instance.file.storage, instance.file.name)
    if instance.generation:
        tasks.queue_output()


@receiver(pre_delete, sender=EPGSource)
def _drop_guide(sender, instance: EPGSource, **kwargs):
    """Delete the guide rows with two plain DELETEs (the ORM's cascade would load every programme)."""
    from .models import EPGChannel, Programme

    channel_ids = EPGChannel.objects.filter(source_id=instance.pk).values("id")
    Programme.objects.filter(channel_id__in=channel_ids)._raw_delete(Programme.objects.db)
    EPGChannel.objects.filter(source_id=instance.pk)._raw_delete(EPGChannel.objects.db)
