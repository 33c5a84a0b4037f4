from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class InvitesConfig(AppConfig):
    name = "invites"
    label = "invites"
    verbose_name = "Invites"

    def ready(self):
        checks.register(check_settings)


def check_settings(app_configs=None, **kwargs):
    from .ratelimit import parse_rate

    problems = []
    if settings.INVITES_EXPIRY_ACTION.strip().lower() not in ("delete", "disable"):
        problems.append(checks.Error(f"INVITES_EXPIRY_ACTION is {settings.INVITES_EXPIRY_ACTION!r}",
                                     hint="Use delete or disable.", id="invites.E001"))
    try:
        parse_rate(settings.INVITES_JOIN_RATE)
    except (ValueError, KeyError):
        problems.append(checks.Error(f"INVITES_JOIN_RATE is {settings.INVITES_JOIN_RATE!r}",
                                     hint='Use a count per period, e.g. "10/min" (s, min, hour, day).',
                                     id="invites.E002"))
    return problems
