"""Base API views, the JWT endpoints and /healthz."""
import logging

from django.http.response import HttpResponseRedirectBase
from django.urls import Resolver404, resolve

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from homelab import errors
from homelab.auth import credential_kind
from homelab.throttling import ClientIPThrottle

logger = logging.getLogger("homelab.health")


class HomelabAPIView(APIView):
    """Base of every API view; subclasses in each app name their error dialect."""

    error_dialect = errors.DETAIL


class PermanentRedirect(HttpResponseRedirectBase):
    """308: like 301, but the client repeats the same method and body (a POST stays a POST)."""

    status_code = 308


class NotFoundView(HomelabAPIView):
    """The last route of each mount: unknown URLs answer 404 in the mount's dialect.

    A URL that only lacks its trailing slash is redirected (308) to the URL with it, as Django's APPEND_SLASH
    would do if the catch-all did not match first."""

    schema = None

    def dispatch(self, request, *args, **kwargs):
        if not request.path.endswith("/"):
            try:
                match = resolve(request.path + "/")
            except Resolver404:
                match = None
            if match is not None and not getattr(match.func, "is_catch_all", False):
                query = request.META.get("QUERY_STRING")
                return PermanentRedirect(request.path + "/" + (f"?{query}" if query else ""))
        return super().dispatch(request, *args, **kwargs)

    def _not_found(self, request, *args, **kwargs):
        raise exceptions.NotFound()

    get = post = put = patch = delete = head = options = _not_found


def not_found_view(base: type[HomelabAPIView]):
    """A catch-all view in the dialect of ``base``."""
    view = type(f"{base.__name__}NotFound", (NotFoundView, base), {}).as_view()
    view.is_catch_all = True
    return view


class LoginRateThrottle(ClientIPThrottle):
    """Login attempts per client IP (JWT_LOGIN_RATE)."""

    scope = "jwt_login"


def _detail(name: str):
    return inline_serializer(name, {"detail": serializers.CharField()})


_FIELD_ERRORS = OpenApiResponse(description="A field is missing or invalid: {field: [message, ...]}")


class TokenObtainView(TokenObtainPairView):
    throttle_classes = [LoginRateThrottle]
    error_dialect = errors.DETAIL

    @extend_schema(
        responses={
            200: inline_serializer("TokenPair", {"access": serializers.CharField(), "refresh": serializers.CharField()}),
            400: _FIELD_ERRORS,
            401: _detail("TokenObtainUnauthorized"),
            429: _detail("TokenObtainThrottled"),
        },
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class TokenRefreshAPIView(TokenRefreshView):
    error_dialect = errors.DETAIL

    @extend_schema(
        responses={
            200: inline_serializer("TokenAccess", {"access": serializers.CharField()}),
            400: _FIELD_ERRORS,
            401: _detail("TokenRefreshUnauthorized"),
        },
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class MeView(HomelabAPIView):
    """Who the request is authenticated as, and with which kind of credential."""

    @extend_schema(
        responses={
            200: inline_serializer(
                "Me",
                {
                    "id": serializers.IntegerField(),
                    "username": serializers.CharField(),
                    "is_staff": serializers.BooleanField(),
                    "credential": serializers.ChoiceField(["jwt", "api_key", "web_token", "session"]),
                },
            ),
            401: OpenApiResponse(description="Not authenticated"),
        }
    )
    def get(self, request):
        return Response(
            {
                "id": request.user.pk,
                "username": request.user.get_username(),
                "is_staff": request.user.is_staff,
                "credential": credential_kind(request),
            }
        )


class HealthView(HomelabAPIView):
    """The whole stack: database, Redis and a live Celery worker (a ping answered within 2 s)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        responses={
            200: inline_serializer(
                "Health",
                {
                    "status": serializers.CharField(),
                    "database": serializers.CharField(),
                    "redis": serializers.CharField(),
                    "worker": serializers.CharField(),
                },
            ),
            503: inline_serializer(
                "HealthDown",
                {
                    "status": serializers.CharField(),
                    "database": serializers.CharField(),
                    "redis": serializers.CharField(),
                    "worker": serializers.CharField(),
                },
            ),
        },
        auth=[],
    )
    def get(self, request):
        from homelab.health import check_all

        result = check_all()
        return Response(result, status=200 if result["status"] == "ok" else 503)
