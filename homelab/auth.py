"""DRF authentication: one identity, four kinds of credential (DESIGN.md, "One identity").

- ``Authorization: Bearer <JWT>`` from /api/accounts/token/;
- ``Authorization: Bearer <web token>`` or ``X-Auth-Token: <web token>``;
- ``X-API-Key: <key>``;
- the session cookie (admin, browsable API).
"""
import hmac
import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication

from .models import APIKey
from .webtoken import token_and_user

_JWT_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


def _check_web_token(value: str):
    expected, user = token_and_user()  # one query; the user is made only for the right token
    if not expected or not hmac.compare_digest(value.encode(), expected.encode()):
        raise exceptions.AuthenticationFailed(_("Invalid token."))
    return (user(), "web-token")


class BearerAuthentication(JWTAuthentication):
    """``Authorization: Bearer`` carrying either a JWT (simplejwt) or, when not JWT-shaped, the web token."""

    www_authenticate_realm = "api"

    def authenticate(self, request):
        header = self.get_header(request)
        if header is None:
            return None
        raw = self.get_raw_token(header)
        if raw is None:
            return None
        token = raw.decode("latin-1")
        if _JWT_SHAPE.match(token):
            return super().authenticate(request)
        return _check_web_token(token)


class WebTokenHeaderAuthentication(authentication.BaseAuthentication):
    """``X-Auth-Token: <web token>``."""

    def authenticate(self, request):
        value = request.META.get("HTTP_X_AUTH_TOKEN")
        if not value:
            return None
        return _check_web_token(value)


class APIKeyAuthentication(authentication.BaseAuthentication):
    """``X-API-Key: <key>``: the key's SHA-256 is looked up; the request acts as the key's creator."""

    def raw_key(self, request) -> str | None:
        return request.META.get("HTTP_X_API_KEY")

    def authenticate(self, request):
        raw = self.raw_key(request)
        if not raw:
            return None
        key = APIKey.lookup(raw)
        if key is None or not key.is_active or not key.created_by.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        key.touch()
        return (key.created_by, key)


class CsrfSessionAuthentication(authentication.SessionAuthentication):
    """The session cookie, with CSRF checks on unsafe methods (DRF's own behaviour)."""


def credential_kind(request) -> str:
    """Which of the four credentials authenticated this request."""
    auth = request.auth
    if isinstance(auth, APIKey):
        return "api_key"
    if auth == "web-token":
        return "web_token"
    if auth is None:
        return "session"
    return "jwt"


class BearerScheme(OpenApiAuthenticationExtension):
    target_class = "homelab.auth.BearerAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A JWT access token from /api/accounts/token/, or the web token.",
        }


class WebTokenScheme(OpenApiAuthenticationExtension):
    target_class = "homelab.auth.WebTokenHeaderAuthentication"
    name = "webToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-Auth-Token"}


class APIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "homelab.auth.APIKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-API-Key"}


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "homelab.auth.CsrfSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
