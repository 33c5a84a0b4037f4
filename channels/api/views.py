"""The IPTV backend's API (a FastAPI app in the original), one view per operation, under /iptv/.

Errors are FastAPI's: ``{"detail": "..."}``, and 422 ``{"detail": [{"loc", "msg", "type"}]}`` for invalid
input. Every endpoint takes any of our credentials; ``IPTV_OPEN_READS=true`` opens the GETs; /health is open.
"""
from __future__ import annotations

import logging

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle

from homelab import errors
from homelab.api.views import HomelabAPIView
from homelab.net import client_ip

from .. import clients, providers, selectors, tasks
from ..models import Provider
from ..parsers import CATEGORIES
from . import serializers as s
from .validation import NUL, Errors, RequestValidationError, body_string, query_choice, query_int, query_text

logger = logging.getLogger("channels.api")
MAX_PAGE_SIZE = 500


class ReadsOpenWhenConfigured(BasePermission):
    """Any credential; GETs without one too when IPTV_OPEN_READS is true."""

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS and settings.IPTV_OPEN_READS:
            return True
        return bool(request.user and request.user.is_authenticated)


class LoginThrottle(SimpleRateThrottle):
    """/iptv/login attempts per client (IPTV_LOGIN_RATE): each one calls the provider with the given account."""

    scope = "iptv_login"

    def get_rate(self):
        return settings.IPTV_LOGIN_RATE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}  # honours TRUSTED_PROXIES


class IPTVAPIView(HomelabAPIView):
    """The IPTV backend (FastAPI): ``{"detail": ...}`` bodies."""

    error_dialect = errors.DETAIL
    permission_classes = [ReadsOpenWhenConfigured]


_ERRORS = {401: OpenApiResponse(s.Detail, description="Not authenticated"),
           422: OpenApiResponse(s.ValidationErrorBody, description="Invalid query or body (FastAPI's shape)")}
_PROVIDER = OpenApiParameter("provider", str, description="A provider id or name (default: the default provider "
                             "for /status, every enabled provider elsewhere).")


def _provider_filter(request, providers_: dict, errs: Errors) -> int | None:
    if "\x00" in request.query_params.get("provider", ""):
        errs.add("query", "provider", NUL)
        return None
    try:
        return selectors.resolve_provider(request.query_params.get("provider"), providers_)
    except selectors.UnknownProvider:
        errs.add("query", "provider", ("enum", "Input should be the id or the name of an enabled provider"))
        return None


class ChannelsView(IPTVAPIView):
    @extend_schema(
        operation_id="iptv_channels",
        parameters=[
            OpenApiParameter("page", int, required=True, description="1-based page number."),
            OpenApiParameter("page_size", int, required=True, description=f"At most {MAX_PAGE_SIZE}."),
            OpenApiParameter("search", str, description="Case- and accent-insensitive, over name, tvg-name, tvg-id "
                                                        "and group, in any script."),
            OpenApiParameter("category", str, enum=list(CATEGORIES)),
            OpenApiParameter("group", str, description="An exact group name (see /groups)."),
            _PROVIDER,
            OpenApiParameter("epg", str, enum=["missing"], description="missing: channels without a guide match."),
        ],
        responses={200: s.ChannelPage, **_ERRORS},
    )
    def get(self, request):
        q = request.query_params
        errs = Errors()
        page = query_int(q, "page", errs, required=True, ge=1)
        page_size = query_int(q, "page_size", errs, required=True, ge=1, le=MAX_PAGE_SIZE)
        category = query_choice(q, "category", errs, CATEGORIES)
        epg = query_choice(q, "epg", errs, ["missing"])
        served = selectors.served_providers()
        provider_id = _provider_filter(request, served, errs)
        search = query_text(q, "search", errs, max_length=200)
        group = query_text(q, "group", errs, max_length=2000)
        errs.raise_if_any()
        return Response(selectors.channel_page(
            page=page, page_size=page_size, providers=served, search=search, category=category, group=group,
            provider_id=provider_id, epg_missing=epg == "missing"))


class LoginView(IPTVAPIView):
    parser_classes = [JSONParser]
    throttle_classes = [LoginThrottle]

    @extend_schema(
        operation_id="iptv_login",
        request=s.LoginRequest,
        responses={200: s.LoginResponse,
                   401: OpenApiResponse(s.Detail, description="Not authenticated, or the provider refused the account"),
                   422: _ERRORS[422],
                   429: OpenApiResponse(s.Detail, description="Too many logins from this client (IPTV_LOGIN_RATE)"),
                   502: OpenApiResponse(s.Detail, description="The provider could not be reached")},
    )
    def post(self, request):
        try:
            data = request.data
        except exceptions.ParseError:
            raise RequestValidationError([{"loc": ["body", 0], "msg": "JSON decode error", "type": "json_invalid"}])
        errs = Errors()
        host = body_string(data, "host", errs)
        username = body_string(data, "username", errs, max_length=200)
        password = body_string(data, "password", errs, max_length=500)
        if host is not None:
            try:
                host = providers.normalise_host(host)
            except providers.InvalidHost as exc:
                errs.add("body", "host", ("url_parsing", str(exc)))
        errs.raise_if_any()
        try:
            client = clients.XtreamClient.for_account(host, username, password, verify=settings.VERIFY_SSL)
            client.account()
        except clients.AuthRefused:
            raise exceptions.AuthenticationFailed("Invalid IPTV credentials: the provider refused the username "
                                                  "or password.")
        except clients.ProviderError as exc:
            raise BadGateway(f"Could not reach the IPTV provider: {exc}")  # exc names the URL, never the query
        provider = providers.set_default_account(host=host, username=username, password=password)
        started = tasks.queue_refresh(provider.pk, "First refresh after login.")
        return Response({"message": "Login successful", "host": provider.host, "username": username,
                         "provider": provider.name, "refresh": "started" if started else "running"})


class BadGateway(exceptions.APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "Could not reach the IPTV provider."


def _the_provider(request):
    """The provider of /refresh and /status: ?provider=, else the default one (404 when there is none)."""
    value = request.query_params.get("provider")
    if value:
        errs = Errors()
        pk = _provider_filter(request, selectors.served_providers(), errs)
        errs.raise_if_any()
        from ..models import Provider

        return Provider.objects.select_related("service").get(pk=pk)
    provider = providers.default_provider()
    if provider is None:
        raise exceptions.NotFound("No IPTV provider is configured: POST /iptv/login first.")
    return provider


class RefreshView(IPTVAPIView):
    @extend_schema(operation_id="iptv_refresh", request=None, parameters=[_PROVIDER],
                   responses={202: s.RefreshResponse, 401: _ERRORS[401], 404: s.Detail, 422: _ERRORS[422],
                              503: OpenApiResponse(s.Detail, description="The task broker refused the refresh")})
    def post(self, request):
        provider = _the_provider(request)
        started = tasks.queue_refresh(provider.pk, "Refresh requested.")
        if started:  # queued at once (no transaction here): a broker that refused it has put that on the row
            row = Provider.objects.filter(pk=provider.pk).values("status", "last_message").first()
            if row and row["status"] == Provider.Status.ERROR:
                return Response({"detail": row["last_message"]}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response({"message": "Refresh scheduled" if started else "Refresh already running",
                         "refreshing": True, "started": started}, status=status.HTTP_202_ACCEPTED)


class StatusView(IPTVAPIView):
    @extend_schema(operation_id="iptv_status", parameters=[_PROVIDER],
                   responses={200: s.StatusResponse, **_ERRORS})
    def get(self, request):
        if request.query_params.get("provider"):
            return Response(selectors.status(_the_provider(request)))
        return Response(selectors.status(providers.default_provider()))


class StatsView(IPTVAPIView):
    @extend_schema(operation_id="iptv_stats", parameters=[_PROVIDER], responses={200: s.StatsResponse, **_ERRORS})
    def get(self, request):
        errs = Errors()
        pk = _provider_filter(request, selectors.served_providers(), errs)
        errs.raise_if_any()
        return Response(selectors.stats(pk))


class GroupsView(IPTVAPIView):
    @extend_schema(operation_id="iptv_groups", parameters=[_PROVIDER], responses={200: s.GroupsResponse, **_ERRORS})
    def get(self, request):
        errs = Errors()
        pk = _provider_filter(request, selectors.served_providers(), errs)
        errs.raise_if_any()
        items = selectors.groups(pk)
        return Response({"groups": items, "total": len(items)})


class HealthView(IPTVAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="iptv_health", responses={200: s.HealthResponse}, auth=[])
    def get(self, request):
        return Response({"status": "ok"})



