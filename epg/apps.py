from django.apps import AppConfig


class EPGConfig(AppConfig):
    name = "epg"
    label = "epg"
    verbose_name = "EPG"
