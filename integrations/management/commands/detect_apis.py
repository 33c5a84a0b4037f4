"""manage.py detect_apis [--force] [--service NAME]: (re-)detect service APIs, concurrently."""
import sys

from django.core.management.base import BaseCommand, CommandError

from integrations import services
from integrations.models import Service


class Command(BaseCommand):
    help = "Detect service APIs (labels, catalogue, probing). Results younger than 7 days are kept unless --force."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Ignore cached results.")
        parser.add_argument("--service", action="append", metavar="NAME",
                            help="Only this service (name or slug); may be repeated.")
        parser.add_argument("--workers", type=int, help="Services probed at once (default API_DETECTION_CONCURRENCY).")

    def handle(self, *args, **options):
        qs = Service.objects.filter(enabled=True)
        names = options.get("service")
        if names:
            from django.db.models import Q

            query = Q()
            for name in names:
                query |= Q(name__iexact=name) | Q(slug__iexact=name)
            qs = Service.objects.filter(query)
            known = {v.lower() for row in qs.values_list("name", "slug") for v in row}
            missing = [n for n in names if n.lower() not in known]
            if missing:
                raise CommandError(f"No service named {', '.join(missing)}")
        targets = list(qs)
        bar = progress = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(desc="Detecting APIs", unit="service", file=sys.stderr)

            def progress(spec, result):
                bar.update(1)
        try:
            results = services.detect_services(targets, force=options["force"], progress=progress,
                                               workers=options.get("workers"))
        finally:
            if bar is not None:
                bar.close()
        detected = sum(1 for r in results.values() if r["detected"])
        by_pk = {s.pk: s for s in targets}
        if options["verbosity"] >= 2:
            for pk, r in results.items():
                self.stdout.write(f"{by_pk[pk].name}: {'API at ' + (r['base_path'] or '/') if r['detected'] else 'no API'}"
                                  f" ({r['method']}{', ' + r['auth_type'] if r['auth_type'] else ''})")
        self.stdout.write(f"checked {len(results)}, detected {detected}, cached {len(targets) - len(results)}")
