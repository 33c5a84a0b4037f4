"""manage.py invites_expire [--dry-run]

Applies INVITES_EXPIRY_ACTION to every account past its expiry now (what the minute sweep does). Exits 1 when a
server could not be reached (those accounts stay due and are tried again by the next sweep).
"""
from django.core.management.base import BaseCommand, CommandError

from invites import expiry


class Command(BaseCommand):
    help = "Delete or disable (INVITES_EXPIRY_ACTION) every account past its expiry."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list the accounts due, change nothing")

    def handle(self, *args, **opts):
        if opts["dry_run"]:
            due = list(expiry.due().select_related("server").order_by("expires"))
            for user in due:
                self.stdout.write(f"{user.username} on {user.server.name}: expired {user.expires.isoformat()}"
                                  + (f" (last try: {user.last_error})" if user.last_error else ""))
            self.stdout.write(f"{len(due)} account(s) due.")
            return
        counts = expiry.sweep()
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "Nothing due.")
        if counts.get("error"):
            raise CommandError(f"{counts['error']} account(s) could not be handled; they stay due.", returncode=1)
