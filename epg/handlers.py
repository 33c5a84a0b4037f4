"""Model signal handlers: the refresh schedule follows each source's settings, and the output follows the
set of active sources."""
import logging

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from . import services, tasks
from .models import EPGSource

logger = logging.getLogger("epg")

_OUTPUT_FIELDS = ("is_active", "priority")


@receiver(pre_save, sender=EPGSource)
def _remember(sender, instance: EPGSource, **kwargs):
    old = (EPGSource.objects.filter(pk=instance.pk).values(*_OUTPUT_FIELDS, "status", "file").first()
           if instance.pk else None)
    instance._old_values = old
    # an inactive source says so, unless an import is running (it finishes, then stays as it ended)
    if not instance.is_active and instance.status not in EPGSource.RUNNING:
        instance.status = EPGSource.Status.DISABLED
    elif instance.is_active and instance.status == EPGSource.Status.DISABLED:
        instance.status = EPGSource.Status.IDLE


@receiver(post_save, sender=EPGSource)
def _sync(sender, instance: EPGSource, created, raw=False, **kwargs):
    if raw:
        return
    services.sync_periodic_task(instance)
    old = getattr(instance, "_old_values", None)
    if old and any(old[f] != getattr(instance, f) for f in _OUTPUT_FIELDS) and instance.generation:
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
