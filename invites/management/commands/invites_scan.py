"""manage.py invites_scan [--server ID ...] [--users-only]

Reads the libraries and users of the media servers now (the beat schedule reads users every 30 minutes), with a
progress bar on a terminal. Exits 1 when a server could not be read (the others are still scanned).
"""
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from invites import services
from invites.models import MediaServer


class Command(BaseCommand):
    help = "Scan media servers: libraries and users (a failed or empty answer changes nothing)."

    def add_arguments(self, parser):
        parser.add_argument("--server", type=int, action="append", metavar="ID", help="a server id (repeatable)")
        parser.add_argument("--users-only", action="store_true", help="read users only, not libraries")

    def handle(self, *args, **opts):
        servers = MediaServer.objects.select_related("service").order_by("id")
        if opts["server"]:
            servers = servers.filter(pk__in=opts["server"])
            missing = sorted(set(opts["server"]) - set(servers.values_list("pk", flat=True)))
            if missing:
                raise CommandError(f"No media server with id {', '.join(map(str, missing))}.")
        servers = list(servers)
        if not servers:
            raise CommandError("No media server to scan: add one in the admin or with POST /invites/api/servers.")
        failed = 0
        for server in tqdm(servers, unit="server", disable=not sys.stderr.isatty()):
            result = services.scan_server(server, libraries=not opts["users_only"])
            failed += bool(result.problems)
            self.stdout.write(f"{server.name}: {result.message}")
        if failed:
            raise CommandError(f"{failed} of {len(servers)} server(s) could not be read fully.", returncode=1)
