"""manage.py refresh_epg [--source ID ... | --all] [--wait [--timeout S]]

Queues the import of one or more EPG sources (the Celery worker runs it); with --wait, follows them with a
progress bar (on a terminal) until each ends, and exits non-zero when one failed.
"""
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from epg import services, tasks
from homelab import clock
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
        bar = None
        if self.stdout.isatty():
            from tqdm import tqdm

            bar = tqdm(total=100 * len(watched), unit="%", desc="EPG refresh", file=sys.stdout)
        deadline = clock.monotonic() + timeout
        done = {}
        try:
            while True:
                rows = {r["id"]: r for r in EPGSource.objects.filter(pk__in=watched).values(
                    "id", "status", "progress", "last_message")}
                total = 0
                for pk in watched:
                    row = rows.get(pk)
                    if row is None:
                        done.setdefault(pk, ("error", "the source was deleted"))
                        total += 100
                        continue
                    if row["status"] not in EPGSource.RUNNING:
                        done.setdefault(pk, (row["status"], row["last_message"]))
                        total += 100
                    else:
                        total += row["progress"]
                if bar is not None:
                    bar.update(total - bar.n)
                if len(done) == len(watched):
                    break
                if clock.monotonic() > deadline:
                    raise CommandError(f"Timed out after {timeout:.0f} s waiting for the refresh.")
                clock.sleep(0.5)
        finally:
            if bar is not None:
                bar.close()
        failed = []
        for pk, (status, message) in done.items():
            self.stdout.write(f"{watched[pk]}: {status}: {message}")
            if status != EPGSource.Status.SUCCESS:
                failed.append(watched[pk])
        if failed:
            raise CommandError(f"Refresh failed for: {', '.join(failed)}.")
