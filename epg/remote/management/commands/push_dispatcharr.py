"""manage.py push_dispatcharr [--link ID ... | --all] [--now]

Pushes a refresh to linked Dispatcharr instances, as happens after each regeneration of /output/epg.xml.
Without --now the push is queued for the Celery worker; with --now it runs here, one link after the other
(a progress bar on a terminal), and the command exits non-zero when a push did not end in success.
"""
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from epg.remote import pushes, tasks
from epg.remote.models import DispatcharrLink


class Command(BaseCommand):
    help = "Push a refresh to linked Dispatcharr instances (queued; --now to run it here and wait)."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--link", type=int, action="append", metavar="ID", help="a link id (repeatable)")
        group.add_argument("--all", action="store_true", help="every enabled link")
        parser.add_argument("--now", action="store_true", help="push in this process and wait for the outcome")

    def handle(self, *args, **opts):
        if opts["all"]:
            links = list(DispatcharrLink.objects.filter(enabled=True))
            if not links:
                raise CommandError("No enabled Dispatcharr link.")
        else:
            links = []
            for pk in opts["link"]:
                link = DispatcharrLink.objects.filter(pk=pk).first()
                if link is None:
                    raise CommandError(f"Dispatcharr link {pk} does not exist.")
                if not link.enabled:
                    raise CommandError(f"Dispatcharr link {pk} ({link}) is disabled: enable it first.")
                links.append(link)
        if not opts["now"]:
            with transaction.atomic():
                for link in links:
                    tasks.queue_push(link.pk)
            self.stdout.write(f"Queued a push to {len(links)} Dispatcharr link(s).")
            return
        failed = []
        iterator = links
        if sys.stdout.isatty():
            from tqdm import tqdm

            iterator = tqdm(links, desc="Pushing", unit="link")
        for link in iterator:
            result = pushes.push_link(link.pk)
            outcome = result.outcome
            if result.push_again:  # the guide changed meanwhile: the worker pushes once more
                tasks.queue_push(link.pk)
            link.refresh_from_db()
            self.stdout.write(f"{link}: {outcome}: {link.last_message}")
            if outcome != DispatcharrLink.Result.SUCCESS:
                failed.append(str(link.pk))
        if failed:
            raise CommandError(f"The push to link(s) {', '.join(failed)} did not succeed.")
