"""manage.py refresh_channels [--provider ID ...] [--wait [--timeout S]]

Queues the refresh of the enabled IPTV providers (or of the ones named; the Celery worker runs it); with --wait,
follows them with a progress bar until each ends, and exits non-zero when one failed.
"""

from django.core.management.base import BaseCommand, CommandError

from channels import tasks
from channels.models import Provider
from homelab.commands import follow_jobs


class Command(BaseCommand):
    help = "Refresh IPTV providers' channel catalogues (queued for the worker; --wait to follow them)."

    def add_arguments(self, parser):
        parser.add_argument("--provider", type=int, action="append", metavar="ID", help="a provider id (repeatable)")
        parser.add_argument("--wait", action="store_true", help="wait for the refreshes to finish")
        parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait at most (default 3600)")

    def handle(self, *args, **opts):
        if opts["provider"]:
            providers = []
            for pk in opts["provider"]:
                provider = Provider.objects.filter(pk=pk).first()
                if provider is None:
                    raise CommandError(f"IPTV provider {pk} does not exist.")
                providers.append(provider)
        else:
            providers = list(Provider.objects.filter(enabled=True))
            if not providers:
                raise CommandError("No enabled IPTV provider to refresh (POST /iptv/login, IPTV_HOST or the admin).")
        watched = {}
        for provider in providers:
            started = tasks.queue_refresh(provider.pk, "Refresh requested by refresh_channels.")
            self.stdout.write(f"{provider.name}: {'refresh queued' if started else 'already refreshing'}")
            watched[provider.pk] = provider.name
        if opts["wait"]:
            self._wait(watched, opts["timeout"])

    def _wait(self, watched, timeout):
        done = follow_jobs(Provider, watched, timeout=timeout, desc="IPTV refresh", gone="the provider was deleted",
                           stdout=self.stdout, poll=0.2)
        failed = []
        for pk, (status, message) in done.items():
            self.stdout.write(f"{watched[pk]}: {status}: {message}")
            if status != Provider.Status.SUCCESS:
                failed.append(watched[pk])
        if failed:
            raise CommandError(f"Refresh failed: {', '.join(failed)}")
