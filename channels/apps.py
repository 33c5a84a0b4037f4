from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _configure_default_provider(sender, **kwargs):
    """IPTV_HOST / IPTV_USERNAME / IPTV_PASSWORD become the default provider after every migrate (which
    `manage.py serve` and the compose stack run at start); idempotent."""
    from .providers import configure_from_settings

    configure_from_settings()


class ChannelsConfig(AppConfig):
    name = "channels"
    label = "channels"
    verbose_name = "IPTV channels"

    def ready(self):
        post_migrate.connect(_configure_default_provider, sender=self, dispatch_uid="channels-default-provider")
