"""Teamarr's Dispatcharr endpoints: ``test``, ``discover`` and ``settings`` (each with or without a trailing
slash). Errors are in the EPG API's dialect (``{"detail": ...}``, or the field map for invalid input).

``test`` and ``discover`` report the remote's answer in their body: a connection that fails is still a
``200`` with ``"success": false`` and the reason in ``message`` (as Teamarr's settings page expects, it shows
the message as a toast); only invalid input is a ``400``. Both contact the remote Dispatcharr, so they (and
``PUT settings``) need a staff user; ``GET settings`` any authenticated one.
"""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.response import Response

from epg.api.views import EPGAPIView
from integrations.models import Service

from .. import selectors, services
from ..clients import manager_for
from ..models import DEFAULT_OUTPUT_FILENAME, DispatcharrLink
from . import serializers as s

AUTH_ERRORS = {
    401: OpenApiResponse(s.DetailError, description="No or invalid credentials."),
    403: OpenApiResponse(s.DetailError, description="Not a staff user."),
}
BAD_INPUT = OpenApiResponse(description="Invalid input: a map of field name to messages.")


class CredentialsRejected(exceptions.APIException):
    status_code = 400
    default_detail = "The Dispatcharr credentials were not accepted."
    default_code = "credentials_rejected"


class DispatcharrAPIView(EPGAPIView):
    permission_classes = [permissions.IsAdminUser]


def _manager(data: dict):
    password = data.get("password") or selectors.stored_password(data["url"], data["username"])
    if not password:
        raise exceptions.ValidationError({"password": ["This field is required."]})
    return manager_for(data["url"], data["username"], password, verify=data.get("verify_tls", True),
                       fresh_login=True)


class TestConnectionView(DispatcharrAPIView):
    """``POST /api/dispatcharr/test`` ``{url, username, password}``: log in to the Dispatcharr (a fresh login,
    so the password given is really checked) and list its EPG sources. ``password`` may be left out when a link
    with this URL and username is stored: its password is used."""

    @extend_schema(
        operation_id="dispatcharr_test",
        request=s.ConnectionInput,
        responses={200: s.TestOutput, 400: BAD_INPUT, **AUTH_ERRORS},
    )
    def post(self, request):
        serializer = s.ConnectionInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.check_connection(_manager(serializer.validated_data)))


class DiscoverView(DispatcharrAPIView):
    """``POST /api/dispatcharr/discover`` ``{url, username, password, filename}``: the remote ``url`` EPG source
    whose URL ends in ``filename`` (default ``epg.xml``; host and IP may differ)."""

    @extend_schema(
        operation_id="dispatcharr_discover",
        request=s.DiscoverInput,
        responses={200: s.DiscoverOutput, 400: BAD_INPUT, **AUTH_ERRORS},
    )
    def post(self, request):
        serializer = s.DiscoverInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return Response(services.discover_source(_manager(data), data["filename"].strip()))


def settings_payload(link: DispatcharrLink | None) -> dict:
    if link is None:
        link = DispatcharrLink(output_filename=DEFAULT_OUTPUT_FILENAME)
    return {
        "id": link.pk,
        "enabled": link.enabled,
        "url": link.url,
        "username": link.username,
        "password_set": bool(link.password),
        "verify_tls": link.verify_tls,
        "output_filename": link.output_filename,
        "epg_id": link.epg_id,
        "epg_name": link.epg_name,
        "last_sync": link.last_sync,
        "last_result": link.last_result,
        "last_message": link.last_message,
        "auth_failures": link.auth_failures,
    }


class SettingsView(DispatcharrAPIView):
    """``GET``/``PUT /api/dispatcharr/settings``: Teamarr's Dispatcharr settings, mapped to the FIRST
    ``DispatcharrLink`` (lowest id); further links (other Dispatcharr instances) are managed in the admin.

    ``PUT`` creates that link on first use and otherwise updates it; fields left out keep their value, and the
    password is write-only (``GET`` shows only ``password_set``; a blank or missing password keeps the stored
    one). Validation: the URL is http(s) with a valid port, username and password are not empty, ``epg_id`` is
    an integer. The credentials are checked on save (a fresh login and a listing of the EPG sources) whenever
    the link is enabled or its URL, username or password change; a rejected login is a ``400`` and nothing is
    saved. With the check, an ``epg_id`` must name a non-dummy source of the remote, and when ``epg_id`` is null
    or left out (and the remote changed) the source is discovered by ``output_filename``."""

    def get_permissions(self):
        if self.request.method in permissions.SAFE_METHODS:
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    @extend_schema(operation_id="dispatcharr_settings_get", responses={200: s.SettingsOutput, **AUTH_ERRORS})
    def get(self, request):
        return Response(s.SettingsOutput(settings_payload(selectors.default_link())).data)

    @extend_schema(
        operation_id="dispatcharr_settings_put",
        request=s.SettingsInput,
        responses={200: s.SettingsOutput, 400: BAD_INPUT, **AUTH_ERRORS},
    )
    def put(self, request):
        serializer = s.SettingsInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data.get("service_id") is not None:
            data["service"] = Service.objects.filter(pk=data["service_id"]).first()
            if data["service"] is None:
                raise exceptions.ValidationError({"service_id": [f"No service with id {data['service_id']}."]})
        data.pop("service_id", None)
        try:
            link = services.save_link_settings(link=selectors.default_link(), **data)
        except services.SettingsInvalid as exc:
            raise exceptions.ValidationError(exc.errors) from None
        except services.CredentialsRejected as exc:
            raise CredentialsRejected(exc.message) from None
        return Response(s.SettingsOutput(settings_payload(link)).data)
