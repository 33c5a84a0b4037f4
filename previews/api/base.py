"""The base view of /previews/api: the ``{"error", "code"}`` dialect, the contract's permissions and its rate
limits (logins per client IP; the default "200 per day, 50 per hour" for requests without a valid credential
only, since the dashboard's own calls poll)."""
from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, permissions

from homelab import errors
from homelab.net import client_ip
from homelab.api.views import HomelabAPIView

from .. import ratelimit
from . import serializers as s


class ReadAnyWriteStaff(permissions.BasePermission):
    """Reads for any authenticated user; writes (which spend the stored Plex token or change settings) for staff."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or user.is_staff


class PreviewsAPIView(HomelabAPIView):
    """plex-generate-previews: ``{"error": ..., "code": ...}`` bodies."""

    error_dialect = errors.PREVIEWS
    permission_classes = [ReadAnyWriteStaff]
    # a login view names its scope and rate setting; other views count only unauthenticated requests
    login_scope: str | None = None

    def login_rate(self) -> str:
        return ""

    def initial(self, request, *args, **kwargs):
        self.ratelimit_headers = {}
        if self.login_scope:
            self._hit(self.login_scope, self.login_rate(), request)
        else:
            try:
                authenticated = bool(request.user and request.user.is_authenticated)
            except exceptions.APIException:
                self._hit("default", settings.PREVIEWS_DEFAULT_RATES, request)
                raise
            if not authenticated:
                self._hit("default", settings.PREVIEWS_DEFAULT_RATES, request)
        super().initial(request, *args, **kwargs)

    def _hit(self, scope: str, rates: str, request) -> None:
        try:
            self.ratelimit_headers = ratelimit.hit(scope, client_ip(request), rates)
        except ratelimit.RateLimited as exc:
            self.ratelimit_headers = exc.headers
            raise

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        for name, value in getattr(self, "ratelimit_headers", {}).items():
            response[name] = value
        return response


class OpenPreviewsView(PreviewsAPIView):
    """Open without credentials (``/api/health``, ``/api/setup/status``)."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    def get_authenticate_header(self, request):
        # without authenticators DRF turns a 401 into a 403; a wrong login token is a 401 (the contract)
        return 'Bearer realm="api"'


ERRORS = {
    400: OpenApiResponse(s.Error, description="VALIDATION_ERROR: the message names the field."),
    401: OpenApiResponse(s.Error, description="UNAUTHORIZED: no or wrong credentials."),
    403: OpenApiResponse(s.Error, description="FORBIDDEN: a write by a user who is not staff."),
    429: OpenApiResponse(s.Error, description="RATE_LIMITED."),
}
AUTH = {k: ERRORS[k] for k in (401, 429)}
NOT_FOUND = {404: OpenApiResponse(s.Error, description="NOT_FOUND.")}
PLEX_DOWN = {424: OpenApiResponse(s.Error, description="PLEX_UNAVAILABLE: Plex or plex.tv could not be used (the "
                                                       "message says why: unreachable, token refused, not Plex).")}
