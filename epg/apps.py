from django.apps import AppConfig


class EPGConfig(AppConfig):
    name = "epg"
    label = "epg"
    verbose_name = "EPG"

    def ready(self):
        from . import handlers  # noqa: F401
