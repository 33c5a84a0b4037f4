"""``manage.py generate_previews --library ID [--wait]``: queue a job for a Plex library; with ``--wait``,
follow it with a progress bar until it ends.

Exit codes: 0 queued (or, with --wait, completed), 1 the job failed, 2 bad arguments or no such library,
3 the job was cancelled, 4 gave up waiting (--timeout)."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from homelab import clock

from ... import services, tasks
from ...api.serializers import LIBRARY_ID
from ...clients import PlexError, PlexServer
from ...models import Job, PreviewSettings

EXIT_FAILED, EXIT_BAD_INPUT, EXIT_CANCELLED, EXIT_TIMEOUT = 1, 2, 3, 4


class Command(BaseCommand):
    help = "Generate Plex preview thumbnails (BIF) for one library: queue a job, optionally wait for it."

    def add_arguments(self, parser):
        parser.add_argument("--library", required=True, help="The Plex library (section) id, e.g. 1.")
        parser.add_argument("--wait", action="store_true", help="Follow the job until it ends.")
        parser.add_argument("--timeout", type=float, default=0, help="With --wait: give up after this many "
                                                                    "seconds (0: never).")

    def handle(self, *args, library, wait, timeout, **options):
        if not LIBRARY_ID.match(library or ""):
            raise CommandError(f"Not a Plex library id: {library!r}", returncode=EXIT_BAD_INPUT)
        conf = PreviewSettings.load()
        try:
            found = PlexServer.for_service(conf.plex_service).library(library)
        except PlexError as exc:
            raise CommandError(exc.reason, returncode=EXIT_BAD_INPUT) from None
        if found is None:
            raise CommandError(f"The Plex server has no movie or show library with id {library}.",
                               returncode=EXIT_BAD_INPUT)
        with transaction.atomic():
            job = services.create_job(library_id=library, library_name=found["name"])
            tasks.queue_job(job.pk)
        self.stdout.write(f"Job {job.pk} queued for library {found['name']} ({library}).")
        if not wait:
            return
        job = self._follow(job, timeout)
        summary = (f"Job {job.pk} {job.status}: {job.completed_items} done, {job.failed_items} failed, "
                   f"{job.skipped_items} skipped of {job.total_items}.")
        if job.status == Job.Status.COMPLETED:
            self.stdout.write(self.style.SUCCESS(summary))
            if job.last_error:
                self.stdout.write(job.last_error)
            return
        if job.status == Job.Status.CANCELLED:
            raise CommandError(summary, returncode=EXIT_CANCELLED)
        if job.status == Job.Status.FAILED:
            raise CommandError(f"{summary} {job.last_error}", returncode=EXIT_FAILED)
        raise CommandError(f"Gave up waiting after {timeout:g} s; job {job.pk} is still {job.status}.",
                           returncode=EXIT_TIMEOUT)

    def _follow(self, job: Job, timeout: float) -> Job:
        deadline = clock.monotonic() + timeout if timeout else None
        with tqdm(total=0, unit="item", desc=job.library_name or job.library_id, file=self.stderr) as bar:
            while True:
                job.refresh_from_db()
                done = job.completed_items + job.failed_items + job.skipped_items + job.cancelled_items
                if bar.total != job.total_items:
                    bar.total = job.total_items
                bar.n = done
                bar.set_postfix(failed=job.failed_items, skipped=job.skipped_items, refresh=False)
                bar.refresh()
                if job.status in Job.TERMINAL or (deadline and clock.monotonic() > deadline):
                    return job
                clock.sleep(0.5)
