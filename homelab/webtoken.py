"""The web token: ``WEB_AUTH_TOKEN`` when set, else generated once, stored encrypted and logged once."""
import logging
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from .models import SiteSecret, row_loader

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


_QUERY: dict = {}
_PLAINTEXT: dict[str, str] = {}


def token_and_user():
    """(the current web token, a loader of its user) in one query, for the check on every request: the stored
    ciphertext is read each time (a regenerated token counts at once) but decrypted once per ciphertext, and the
    web-token user comes in the same round trip. First use (no stored token, no user yet) takes the slow path."""
    built = _QUERY.get(connection.vendor)
    if built is None:
        qn = connection.ops.quote_name
        User = get_user_model()
        user_cols, _, load_user = row_loader(User, "u")
        sql = (f"SELECT (SELECT s.{qn('value')} FROM {qn(SiteSecret._meta.db_table)} s WHERE s.{qn('name')} = %s), "
               f"{user_cols} FROM (SELECT 1 AS one) AS o LEFT JOIN {qn(User._meta.db_table)} u "
               f"ON u.{qn(User.USERNAME_FIELD)} = %s")
        built = _QUERY[connection.vendor] = (sql, load_user)
    sql, load_user = built
    with connection.cursor() as cur:
        cur.execute(sql, [SiteSecret.WEB_TOKEN, WEB_TOKEN_USERNAME])
        row = cur.fetchone()
    ciphertext, user_row = row[0], row[1:]
    if settings.WEB_AUTH_TOKEN:
        token = settings.WEB_AUTH_TOKEN
    elif not ciphertext:
        token = get_web_token()
    else:
        token = _PLAINTEXT.get(ciphertext)
        if token is None:
            token = SiteSecret._meta.get_field("value").from_db_value(ciphertext, None, connection)
            if len(_PLAINTEXT) > 8:
                _PLAINTEXT.clear()
            _PLAINTEXT[ciphertext] = token
    if user_row[0] is None:
        return token, web_token_user
    return token, lambda: load_user(user_row)
