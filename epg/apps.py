from datetime import timedelta

from django.apps import AppConfig
from django.conf import settings


class EPGConfig(AppConfig):
    name = "epg"
    label = "epg"
    verbose_name = "EPG"

    def ready(self):
        from homelab import clock, jobs

        from . import handlers  # noqa: F401
        from .models import EPGSource

        # an import lost with its worker goes to error (and its token is cleared, so the lost run, if it is
        # only slow, stops at its next write); a queued one never started waits for the task time limit
        jobs.register(EPGSource, running=EPGSource.RUNNING, to=EPGSource.Status.ERROR, message_field="last_message",
                      stuck_after=timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 600),
                      run_token="", progress=0, status_changed_at=clock.now)
