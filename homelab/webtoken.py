"""The web token: ``WEB_AUTH_TOKEN`` when set, else generated once, stored encrypted and logged once."""
import logging
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from .models import SiteSecret

logger = logging.getLogger("homelab.auth")
WEB_TOKEN_USERNAME = "web-token"


def is_env_controlled() -> bool:
    return bool(settings.WEB_AUTH_TOKEN)


def get_web_token() -> str:
    """The current web token, generating (and logging) it on first use."""
    if settings.WEB_AUTH_TOKEN:
        return settings.WEB_AUTH_TOKEN
    row = SiteSecret.objects.filter(name=SiteSecret.WEB_TOKEN).first()
    if row is not None:
        return row.value
    token = secrets.token_urlsafe(24)
    try:
        with transaction.atomic():
            SiteSecret.objects.create(name=SiteSecret.WEB_TOKEN, value=token)
    except IntegrityError:  # another process generated it first
        return SiteSecret.objects.get(name=SiteSecret.WEB_TOKEN).value
    logger.warning("Generated a web token; it is shown this once. Token: %s", token, extra={"unmasked": True})
    return token


def set_web_token(token: str) -> None:
    SiteSecret.objects.update_or_create(name=SiteSecret.WEB_TOKEN, defaults={"value": token})


def regenerate_web_token() -> str:
    """Replace the stored web token with a new one (not when WEB_AUTH_TOKEN sets it); returns the new token."""
    token = secrets.token_urlsafe(24)
    set_web_token(token)
    logger.warning("The web token was regenerated; the old one no longer works.")
    return token


def web_token_user():
    """The Django user that web-token requests act as: a staff account that cannot log in with a password."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=WEB_TOKEN_USERNAME, defaults={"is_staff": True, "is_superuser": True}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user
