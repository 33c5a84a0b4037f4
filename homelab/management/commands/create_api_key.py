from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from homelab.models import APIKey


class Command(BaseCommand):
    help = "Create an API key (X-API-Key) and print it once; only its SHA-256 is stored."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--user", help="The user the key acts as (default: the first superuser).")

    def handle(self, *args, name, user=None, **options):
        User = get_user_model()
        if user:
            owner = User.objects.filter(username=user).first()
            if owner is None:
                raise CommandError(f"No user named {user!r}.")
        else:
            owner = User.objects.filter(is_superuser=True, is_active=True).exclude(username="web-token").order_by("pk").first()
            if owner is None:
                raise CommandError("No superuser exists; create one (manage.py createsuperuser) or pass --user.")
        key, raw = APIKey.generate(name=name, user=owner)
        self.stderr.write(f"Created API key {key.name!r} for {owner.username}. It is shown once:")
        self.stdout.write(raw)
