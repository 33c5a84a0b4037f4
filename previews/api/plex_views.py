"""Plex endpoints: PIN sign-in and servers through plex.tv, libraries and the connection test on the server.

A Plex server or plex.tv that refuses the token or cannot be reached is a 424 ``PLEX_UNAVAILABLE`` saying why
(a 4xx: the request depended on Plex, which failed; this server did not — 5xx stays for our own faults)
(``POST /api/plex/test`` reports it as ``{"success": false, "error"}`` instead, as the wizard shows it); a
missing URL or token is a 400 ``VALIDATION_ERROR``.
"""
from __future__ import annotations

import logging

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from ..clients import PlexError, PlexServer, PlexTV
from ..models import PreviewSettings
from . import serializers as s
from .base import AUTH, ERRORS, NOT_FOUND, PLEX_DOWN, PreviewsAPIView

logger = logging.getLogger("previews.plex")


class PlexUnavailable(exceptions.APIException):
    status_code = 424
    default_detail = "Plex could not be used."
    error_code = "PLEX_UNAVAILABLE"


def _raise(exc: PlexError):
    if exc.missing:
        raise exceptions.ValidationError(exc.reason)
    raise PlexUnavailable(exc.reason)


def _server(url: str | None = None, token: str | None = None) -> PlexServer:
    """The configured Plex server, or the one ``url`` / ``token`` name (each falls back to the stored one)."""
    row = PreviewSettings.load()
    service = row.plex_service
    if service is not None and not url and not token:
        return PlexServer.for_service(service)
    verify = service.verify_ssl if service else True
    return PlexServer(url or row.plex_url, token or row.plex_token, verify=verify)


class PinView(PreviewsAPIView):
    @extend_schema(operation_id="previews_plex_pin_create", request=None,
                   responses={200: s.Pin, **ERRORS, **PLEX_DOWN})
    def post(self, request):
        try:
            return Response(PlexTV().create_pin())
        except PlexError as exc:
            _raise(exc)


class PinCheckView(PreviewsAPIView):
    @extend_schema(operation_id="previews_plex_pin_check", responses={200: s.PinStatus, **AUTH, **NOT_FOUND,
                                                                      **PLEX_DOWN})
    def get(self, request, pin_id: int):
        try:
            return Response(PlexTV().check_pin(pin_id))
        except PlexError as exc:
            if exc.status == 404:
                raise exceptions.NotFound(f"No Plex PIN {pin_id} (it may have expired).") from None
            _raise(exc)


class ServersView(PreviewsAPIView):
    @extend_schema(operation_id="previews_plex_servers",
                   parameters=[OpenApiParameter("token", str, description="A plex.tv token (default: the stored one).")],
                   responses={200: s.Servers, **ERRORS, **PLEX_DOWN})
    def get(self, request):
        token = _query(request, "token", s.PlexTokenField()) or PreviewSettings.load().plex_token
        if not token:
            raise exceptions.ValidationError("No Plex token: sign in with Plex (PIN) or enter a token first.")
        try:
            return Response({"servers": PlexTV(token).servers()})
        except PlexError as exc:
            _raise(exc)


def _query(request, name: str, field) -> str | None:
    """A query parameter checked like the same field of a body (``url``, ``token``); None when absent."""
    value = request.query_params.get(name)
    if value is None:
        return None
    try:
        return field.run_validation(value) or None
    except serializers.ValidationError as exc:
        raise exceptions.ValidationError({name: exc.detail}) from None


class PlexLibrariesView(PreviewsAPIView):
    @extend_schema(operation_id="previews_plex_libraries",
                   parameters=[OpenApiParameter("url", str, description="Plex server URL (default: the stored one)."),
                               OpenApiParameter("token", str, description="Plex token (default: the stored one).")],
                   responses={200: s.Libraries, **ERRORS, **PLEX_DOWN})
    def get(self, request):
        try:
            server = _server(_query(request, "url", s.PlexURLField(allow_blank=True)),
                             _query(request, "token", s.PlexTokenField()))
            return Response({"libraries": server.libraries()})
        except PlexError as exc:
            _raise(exc)


class LibrariesView(PreviewsAPIView):
    @extend_schema(operation_id="previews_libraries", responses={200: s.LibraryCounts, **ERRORS, **PLEX_DOWN})
    def get(self, request):
        try:
            server = _server()
            return Response({"libraries": [{**lib, "item_count": server.item_count(lib)}
                                           for lib in server.libraries()]})
        except PlexError as exc:
            _raise(exc)


class PlexTestView(PreviewsAPIView):
    @extend_schema(operation_id="previews_plex_test", request=s.PlexTestInput,
                   responses={200: s.PlexTestOutput, **ERRORS})
    def post(self, request):
        serializer = s.PlexTestInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            identity = _server(data.get("url"), data.get("token")).identity()
        except PlexError as exc:
            logger.info("Plex test failed: %s", exc.reason)
            return Response({"success": False, "error": exc.reason})
        return Response({"success": True, "server_name": identity["server_name"], "version": identity["version"]})
