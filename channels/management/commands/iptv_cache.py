"""manage.py iptv_cache export FILE | import FILE [--provider ID]

The original backend's JSON cache (``{"timestamp", "host", "channel_count", "channels": [...]}``): export a
provider's catalogue (the default provider unless --provider), or import one into it. An import is validated
whole first: a malformed file is refused with a message naming the first bad field, and nothing changes.
"""
import json

from django.core.management.base import BaseCommand, CommandError

from channels import cache, providers
from channels.models import Provider


class Command(BaseCommand):
    help = "Export or import an IPTV catalogue in the original backend's cache format."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["export", "import"])
        parser.add_argument("file", help="the cache file ('-' for standard output on export)")
        parser.add_argument("--provider", type=int, metavar="ID", help="a provider id (default: the default one)")

    def handle(self, *args, action, file, provider, **opts):
        target = Provider.objects.filter(pk=provider).first() if provider else providers.default_provider()
        if target is None:
            raise CommandError(f"IPTV provider {provider} does not exist." if provider else
                               "There is no default IPTV provider: pass --provider ID (or POST /iptv/login).")
        if action == "export":
            if file == "-":
                count = cache.export(target, self.stdout)
            else:
                with open(file, "w", encoding="utf-8") as out:
                    count = cache.export(target, out)
            self.stderr.write(f"Exported {count} channels of {target.name}.")
            return
        try:
            with open(file, "rb") as fh:
                payload = json.load(fh)
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise CommandError(f"{file}: not JSON ({exc})") from None
        try:
            counts = cache.import_(target, payload)
        except cache.CacheError as exc:
            raise CommandError(f"{file}: refused, nothing changed: {exc}") from None
        self.stdout.write(f"Imported {counts['total']} channels into {target.name} ({counts['new']} new, "
                          f"{counts['changed']} changed, {counts['removed']} removed).")
