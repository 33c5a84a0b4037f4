"""plex-generate-previews' API: auth, setup wizard, settings, system (one view per operation).

Plex and jobs are in ``plex_views`` and ``job_views``. Errors are ``{"error", "code"}`` (views raise);
``set-token`` answers ``{"success": false, "error"}`` as the contract shows.
"""
from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib.auth import login
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.response import Response

from homelab import errors, webtoken

from .. import selectors, services
from . import serializers as s
from .base import AUTH, ERRORS, OpenPreviewsView, PreviewsAPIView

VERSION = "3.7.5"  # the plex-generate-previews API version this mount keeps
INVALID_TOKEN = "Invalid token."

__all__ = ["PreviewsAPIView"]


class HealthView(OpenPreviewsView):
    @extend_schema(operation_id="previews_health", responses={200: s.Health, 429: ERRORS[429]}, auth=[])
    def get(self, request):
        return Response({"status": "healthy", "version": VERSION})


def _login(request, data) -> None:
    serializer = s.LoginInput(data=data)
    serializer.is_valid(raise_exception=True)
    expected = webtoken.get_web_token()
    given = serializer.validated_data["token"]
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise exceptions.AuthenticationFailed(INVALID_TOKEN)
    login(request._request, webtoken.web_token_user(), backend="django.contrib.auth.backends.ModelBackend")


class APILoginView(OpenPreviewsView):
    """``POST /api/auth/login`` ``{"token"}``: starts a session (10 a minute per client IP)."""

    login_scope = "api_login"

    def login_rate(self):
        return settings.PREVIEWS_API_LOGIN_RATE

    @extend_schema(operation_id="previews_auth_login", request=s.LoginInput,
                   responses={200: s.Success, 400: ERRORS[400], 401: ERRORS[401], 429: ERRORS[429]}, auth=[])
    def post(self, request):
        _login(request, request.data)
        return Response({"success": True})


class FormLoginView(OpenPreviewsView):
    """``/login``: a small form; ``POST`` with the form field ``token`` starts a session and redirects to the
    dashboard (5 a minute per client IP)."""

    login_scope = "login"

    def login_rate(self):
        return settings.PREVIEWS_LOGIN_RATE

    def initial(self, request, *args, **kwargs):
        if request.method == "GET":  # showing the form is not a login attempt
            self.login_scope = None
        super().initial(request, *args, **kwargs)

    @extend_schema(operation_id="previews_login_form", responses={(200, "text/html"): OpenApiResponse(
        description="The login form.")}, auth=[])
    def get(self, request):
        from django.http import HttpResponse

        return HttpResponse(LOGIN_PAGE, content_type="text/html; charset=utf-8")

    @extend_schema(operation_id="previews_login", request={"application/x-www-form-urlencoded": s.LoginInput},
                   responses={302: OpenApiResponse(description="Signed in: to the dashboard."),
                              400: ERRORS[400], 401: ERRORS[401], 429: ERRORS[429]}, auth=[])
    def post(self, request):
        from django.http import HttpResponseRedirect

        _login(request, request.data)
        return HttpResponseRedirect(request.path.rsplit("/login", 1)[0] + "/")


LOGIN_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Plex previews: sign in</title>
<style>body{font-family:sans-serif;max-width:24rem;margin:4rem auto}input{width:100%;padding:.4rem}</style></head>
<body><h1>Sign in</h1><form method="post"><label>Token <input type="password" name="token" autofocus></label>
<p><button type="submit">Sign in</button></p></form></body></html>"""


class SetupStatusView(OpenPreviewsView):
    @extend_schema(operation_id="previews_setup_status", responses={200: s.SetupStatus, 429: ERRORS[429]}, auth=[])
    def get(self, request):
        return Response(selectors.setup_status())


class SetupStateView(PreviewsAPIView):
    @extend_schema(operation_id="previews_setup_state_get", responses={200: s.SetupStateSerializer, **AUTH})
    def get(self, request):
        from ..models import SetupState

        state = SetupState.load()
        return Response({"step": state.step, "data": state.data})

    @extend_schema(operation_id="previews_setup_state_save", request=s.SetupStateSerializer,
                   responses={200: s.Success, **ERRORS})
    def post(self, request):
        serializer = s.SetupStateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.save_setup_state(**serializer.validated_data)
        return Response({"success": True})


class SetupCompleteView(PreviewsAPIView):
    @extend_schema(operation_id="previews_setup_complete", request=None, responses={200: s.SetupComplete, **ERRORS})
    def post(self, request):
        services.complete_setup()
        return Response({"success": True, "redirect": "/"})


class StaffOnly(permissions.IsAdminUser):
    pass


class TokenInfoView(PreviewsAPIView):
    """The web token itself (step 5 of the wizard): staff only."""

    permission_classes = [StaffOnly]

    @extend_schema(operation_id="previews_setup_token_info", responses={200: s.TokenInfo, **AUTH,
                                                                        403: ERRORS[403]})
    def get(self, request):
        return Response(selectors.token_info())


class TokenRefused(exceptions.ValidationError):
    pass


class SetTokenView(PreviewsAPIView):
    """``POST /api/setup/set-token``: ``{"success": false, "error"}`` (400) with the contract's messages."""

    error_dialect = errors.SUCCESS_ERROR

    @extend_schema(operation_id="previews_setup_set_token", request=s.SetTokenInput,
                   responses={200: s.Success, **{code: OpenApiResponse(s.SuccessError, description=text) for code, text in (
                       (400, "One of the contract's three messages, or a missing field."),
                       (401, "No or wrong credentials."), (403, "Not staff."), (429, "Rate limited."))}})
    def post(self, request):
        serializer = s.SetTokenInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.set_web_token(serializer.validated_data["token"], serializer.validated_data["confirm_token"])
        except services.TokenRefused as exc:
            raise TokenRefused(str(exc)) from None
        return Response({"success": True})


class SettingsView(PreviewsAPIView):
    @extend_schema(operation_id="previews_settings_get", responses={200: s.SettingsOutput, **AUTH})
    def get(self, request):
        return Response(selectors.settings_payload())

    @extend_schema(operation_id="previews_settings_save", request=s.SettingsInput,
                   responses={200: s.Success, **ERRORS})
    def post(self, request):
        serializer = s.SettingsInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.save_settings(serializer.validated_data)
        return Response({"success": True})


class SystemConfigView(PreviewsAPIView):
    @extend_schema(operation_id="previews_system_config", responses={200: s.SystemConfig, **AUTH})
    def get(self, request):
        return Response(selectors.system_config())


class SystemStatusView(PreviewsAPIView):
    @extend_schema(operation_id="previews_system_status", responses={200: s.SystemStatus, **AUTH})
    def get(self, request):
        return Response(selectors.system_status())
