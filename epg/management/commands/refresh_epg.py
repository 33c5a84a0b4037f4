"""manage.py refresh_epg [--source ID ... | --all] [--wait [--timeout S]]

Queues the import of one or more EPG sources (the Celery worker runs it); with --wait, follows them with a
progress bar (on a terminal) until each ends, and exits non-zero when one failed.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from epg import services, tasks
from homelab.commands import follow_jobs
from epg.models import EPGSource


class Command(BaseCommand):
    help = "Refresh EPG sources (queue their import; --wait to follow it to the end)."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--source", type=int, action="append", metavar="ID", help="a source id (repeatable)")
        group.add_argument("--all", action="store_true", help="every active, non-dummy source")
        parser.add_argument("--wait", action="store_true", help="wait for the imports to finish")
        parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait at most (default 3600)")

    def handle(self, *args, **opts):
        if opts["all"]:
            sources = list(EPGSource.objects.filter(is_active=True).exclude(source_type=EPGSource.SourceType.DUMMY))
            if not sources:
                raise CommandError("No active EPG source to refresh.")
        else:
            sources = []
            for pk in opts["source"]:
                source = EPGSource.objects.filter(pk=pk).first()
                if source is None:
                    raise CommandError(f"EPG source {pk} does not exist.")
                sources.append(source)
        watched = {}
        for source in sources:
            try:
                with transaction.atomic():
                    started = tasks.request_import(source)
            except services.RefreshRefused as exc:
                raise CommandError(f"{source.name}: {exc}") from None
            self.stdout.write(f"{source.name}: {'refresh queued' if started else 'already refreshing'}")
            watched[source.pk] = source.name
        if not opts["wait"]:
            return
        self._wait(watched, opts["timeout"])

    def _wait(self, watched, timeout):
        done = follow_jobs(EPGSource, watched, timeout=timeout, desc="EPG refresh", gone="the source was deleted",
                           stdout=self.stdout)
        failed = []
        for pk, (status, message) in done.items():
            self.stdout.write(f"{watched[pk]}: {status}: {message}")
            if status != EPGSource.Status.SUCCESS:
                failed.append(watched[pk])
        if failed:
            raise CommandError(f"Refresh failed for: {', '.join(failed)}.")
