from django.apps import AppConfig


class EPGRemoteConfig(AppConfig):
    """Push-refresh of remote Dispatcharr instances (Teamarr's auto-refresh): a sub-app of ``epg`` with its own
    rows and migrations, listening to ``epg.signals.output_regenerated``."""

    name = "epg.remote"
    label = "epg_remote"
    verbose_name = "EPG: remote Dispatcharr"

    def ready(self):
        from epg.signals import output_regenerated

        from .tasks import on_output_regenerated

        output_regenerated.connect(on_output_regenerated, dispatch_uid="epg_remote.push_on_output_regenerated")
