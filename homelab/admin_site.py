"""The admin site: Django's, with its login throttled per client IP and per user name (ADMIN_LOGIN_RATE)."""
import math

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from homelab.net import client_ip
from homelab.throttling import AttemptLimit


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """Every attempt counts against the client's address and the user name tried, before the password is checked,
    so parallel guesses are counted too. Another user from another address is not affected."""

    def clean(self):
        username = (self.cleaned_data.get("username") or "").strip().lower()
        idents = [("admin_login_ip", client_ip(self.request)), ("admin_login_user", username)]
        limits = [(AttemptLimit(scope, settings.ADMIN_LOGIN_RATE), ident) for scope, ident in idents]
        waits = [w for w in (limit.wait(ident) for limit, ident in limits) if w is not None]
        if waits:
            seconds = math.ceil(max(waits))
            self.request.login_retry_after = seconds
            raise ValidationError(f"Too many login attempts. Try again in {seconds} seconds.", code="throttled")
        for limit, ident in limits:
            limit.hit(ident)
        return super().clean()


class HomelabAdminSite(admin.AdminSite):
    login_form = ThrottledAdminAuthenticationForm

    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        retry_after = getattr(request, "login_retry_after", None)
        if retry_after is not None:
            response.status_code = 429
            response["Retry-After"] = str(retry_after)
        return response
