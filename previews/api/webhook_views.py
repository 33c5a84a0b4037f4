"""Webhooks for new media (Plex ``library.new``, Sonarr / Radarr ``Download``) and the path check.

Plex, Sonarr and Radarr cannot send a header: the web token comes in the query (``?token=``), as well as the
usual credentials. Events that need no previews (``media.play``, Sonarr's ``Test``, ...) are answered 200 and
ignored, so the senders do not retry them; a body that cannot be what they document is 400 ``VALIDATION_ERROR``.
"""
from __future__ import annotations

import hmac

from django.db import transaction
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import authentication, exceptions
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.settings import api_settings

from homelab import webtoken

from .. import webhooks
from ..clients import PlexError, PlexServer
from ..models import PreviewSettings
from ..paths import MappingError
from ..schedule_tasks import queue_resolve
from . import schedule_serializers as s
from .base import AUTH, ERRORS, NOT_FOUND, PLEX_DOWN, PreviewsAPIView
from .plex_views import _raise



class QueryTokenAuthentication(authentication.BaseAuthentication):
    """``?token=<web token>``."""

    def authenticate(self, request):
        value = request.query_params.get("token")
        if not value:
            return None
        expected = webtoken.get_web_token()
        if not expected or not hmac.compare_digest(value.encode(), expected.encode()):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return (webtoken.web_token_user(), "web-token")

    def authenticate_header(self, request):
        return 'Bearer realm="api"'  # a 401 (not DRF's 403 for an authenticator without a header)


class QueryTokenScheme(OpenApiAuthenticationExtension):
    target_class = "previews.api.webhook_views.QueryTokenAuthentication"
    name = "previewsQueryToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "query", "name": "token"}


class WebhookView(PreviewsAPIView):
    authentication_classes = [QueryTokenAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    source = ""

    def parse(self, request) -> webhooks.Announcement:
        raise NotImplementedError

    def post(self, request):
        try:
            announcement = self.parse(request)
        except webhooks.PayloadError as exc:
            raise exceptions.ValidationError(str(exc)) from None
        if announcement.ignored:
            return Response({"success": True, "message": announcement.ignored, "events": []})
        with transaction.atomic():
            rows = webhooks.record(announcement)
            for row in rows:
                queue_resolve(row.pk)
        what = announcement.title or ", ".join(announcement.files) or f"Plex item {announcement.plex_id}"
        return Response({"success": True, "message": f"Previews will be made for {what}.",
                         "events": [row.pk for row in rows]})


class PlexWebhookView(WebhookView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def parse(self, request):
        raw = request.data.get("payload") if hasattr(request.data, "get") else None
        if raw is None and isinstance(request.data, dict) and "event" in request.data:
            raw = dict(request.data)  # a JSON body (a script testing the hook)
        if hasattr(raw, "read"):
            raw = raw.read()
        return webhooks.parse_plex(raw)

    @extend_schema(operation_id="previews_webhook_plex", request={"multipart/form-data": s.PlexWebhookInput},
                   responses={200: s.WebhookAccepted, **ERRORS})
    def post(self, request):
        return super().post(request)


class SonarrWebhookView(WebhookView):
    parser_classes = [JSONParser]

    def parse(self, request):
        return webhooks.parse_sonarr(request.data)

    @extend_schema(operation_id="previews_webhook_sonarr", request={"application/json": {"type": "object", "description": "Sonarr's webhook JSON "
                                                                                  "(eventType Download)."}},
                   responses={200: s.WebhookAccepted, **ERRORS})
    def post(self, request):
        return super().post(request)


class RadarrWebhookView(WebhookView):
    parser_classes = [JSONParser]

    def parse(self, request):
        return webhooks.parse_radarr(request.data)

    @extend_schema(operation_id="previews_webhook_radarr", request={"application/json": {"type": "object", "description": "Radarr's webhook JSON "
                                                                                  "(eventType Download)."}},
                   responses={200: s.WebhookAccepted, **ERRORS})
    def post(self, request):
        return super().post(request)


class PathCheckView(PreviewsAPIView):
    """``GET /api/plex/path-check?library_id=``: why no previews were made, in one screen."""

    @extend_schema(operation_id="previews_plex_path_check", parameters=[
        OpenApiParameter("library_id", str, required=True),
        OpenApiParameter("limit", int, description="Items to check (1-50, default 5).")],
        responses={200: s.PathCheck, **ERRORS, **NOT_FOUND, **PLEX_DOWN})
    def get(self, request):
        library_id = (request.query_params.get("library_id") or "").strip()
        if not library_id:
            raise exceptions.ValidationError({"library_id": ["This parameter is required."]})
        raw = request.query_params.get("limit", "5")
        if not raw.isdigit() or not 1 <= int(raw) <= 50:
            raise exceptions.ValidationError({"limit": ["A whole number from 1 to 50."]})
        conf = PreviewSettings.load()
        try:
            server = PlexServer.for_service(conf.plex_service)
            library = server.library(library_id)
            if library is None:
                raise exceptions.NotFound(f"The Plex server has no movie or show library with id {library_id}.")
            return Response(webhooks.path_check(server, library, conf, int(raw)))
        except PlexError as exc:
            _raise(exc)
        except MappingError as exc:
            raise exceptions.ValidationError({"plex_local_videos_path_mapping": [str(exc)]}) from None
