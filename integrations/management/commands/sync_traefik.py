"""manage.py sync_traefik [--no-detect] [--url URL]: services from Traefik's routers, then API detection."""
import sys

from django.core.management.base import BaseCommand, CommandError

from integrations import services, traefik


class Command(BaseCommand):
    help = "Create or update a Service per Traefik router, mark vanished ones as not seen, then detect APIs."

    def add_arguments(self, parser):
        parser.add_argument("--no-detect", action="store_true", help="Do not run API detection afterwards.")
        parser.add_argument("--url", help="Traefik API URL (default: TRAEFIK_API_URL).")

    def handle(self, *args, **options):
        bar = None
        progress = None
        if not options["no_detect"] and sys.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(desc="Detecting APIs", unit="service", file=sys.stderr)

            def progress(spec, result):
                bar.update(1)
        try:
            summary = services.sync_traefik(url=options.get("url"), detect=not options["no_detect"],
                                            progress=progress)
        except traefik.TraefikError as exc:
            raise CommandError(str(exc)) from None
        finally:
            if bar is not None:
                bar.close()
        if summary.docker_error:
            self.stderr.write(f"Docker labels skipped: {summary.docker_error}")
        self.stdout.write(summary.line())
