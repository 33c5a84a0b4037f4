from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _configure_default_provider(sender, **kwargs):
    """IPTV_HOST / IPTV_USERNAME / IPTV_PASSWORD become the default provider after every migrate (which
    `manage.py serve` and the compose stack run at start, with the broker up); idempotent. A new or changed
    account, or one never refreshed, gets its refresh queued at once rather than at the beat's next look."""
    from .providers import configure_from_settings
    from .tasks import queue_refresh

    provider, changed = configure_from_settings()
    if provider is not None and (changed or provider.refreshed_at is None):
        queue_refresh(provider.pk, "Refresh of the provider set by IPTV_HOST.")


class ChannelsConfig(AppConfig):
    name = "channels"
    label = "channels"
    verbose_name = "IPTV channels"

    def ready(self):
        from homelab import jobs

        from . import services
        from .models import Provider

        post_migrate.connect(_configure_default_provider, sender=self, dispatch_uid="channels-default-provider")
        # a refresh lost with its worker (no heartbeat) goes to error, its token cleared (the lost run, if only
        # slow, stops at its next write); a queued one's heartbeat is set ahead by the task time limit
        jobs.register(Provider, running=Provider.RUNNING, to=Provider.Status.ERROR, message_field="last_message",
                      **services.SWEPT)
