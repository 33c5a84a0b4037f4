"""Admin of the invites app: servers (Test connection, Scan), libraries, users (Extend, Delete on server),
invitations (custom codes, copy link), the audit log."""
from __future__ import annotations

import re

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html

from homelab import clock

from . import expiry, services, tasks
from .clients import ServerError
from .models import AuditEntry, Invitation, InvitationUse, Library, MediaServer, RemoteUser, new_code

CODE_RE = re.compile(r"^[A-Z0-9]{6,10}$")


class MediaServerForm(forms.ModelForm):
    """Pick a Service (one synced from Traefik works), or give a URL and key and one is made."""

    server_url = forms.CharField(required=False, help_text="With no Service picked: the server's URL.")
    api_key = forms.CharField(required=False, widget=forms.PasswordInput, label="API key / token",
                              help_text="With no Service picked: the API key (Plex: the X-Plex-Token).")

    class Meta:
        model = MediaServer
        fields = ["name", "server_type", "service", "external_url", "allow_downloads", "allow_live_tv",
                  "allow_mobile_uploads"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].required = False

    def clean(self):
        data = super().clean()
        if not data.get("service") and not (data.get("server_url") and data.get("api_key")):
            raise forms.ValidationError("Pick a Service, or give the server's URL and API key.")
        if not self.instance.pk and not self.errors:
            try:
                server = services.create_server(
                    name=data["name"], server_type=data["server_type"], service=data.get("service"),
                    server_url=(data.get("server_url") or "").rstrip("/"), api_key=data.get("api_key") or "",
                    external_url=data.get("external_url") or "", allow_downloads=data.get("allow_downloads", False),
                    allow_live_tv=data.get("allow_live_tv", False),
                    allow_mobile_uploads=data.get("allow_mobile_uploads", False))
            except services.InvitesError as exc:
                raise forms.ValidationError(exc.message) from None
            self.instance = server
        return data


@admin.register(MediaServer)
class MediaServerAdmin(admin.ModelAdmin):
    form = MediaServerForm
    list_display = ("name", "server_type", "service", "verified", "last_sync_at", "last_message", "created_at")
    list_filter = ("server_type", "verified")
    search_fields = ("name", "service__name")
    readonly_fields = ("verified", "machine_identifier", "last_sync_at", "last_message", "created_at")
    actions = ["test_connection", "scan"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
        # a new server was verified, saved and scanned by the form

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        for server in queryset.select_related("service"):
            try:
                services.verify_server(server)
                self.message_user(request, f"{server.name}: OK", messages.SUCCESS)
            except ServerError as exc:
                self.message_user(request, f"{server.name}: {exc.message}", messages.ERROR)

    @admin.action(description="Scan libraries and users")
    def scan(self, request, queryset):
        for server in queryset.select_related("service"):
            result = services.scan_server(server)
            level = messages.WARNING if result.problems else messages.SUCCESS
            self.message_user(request, f"{server.name}: {result.message}", level)


@admin.register(Library)
class LibraryAdmin(admin.ModelAdmin):
    list_display = ("name", "server", "external_id", "guid")
    list_filter = ("server",)
    search_fields = ("name", "external_id")
    readonly_fields = ("server", "external_id", "guid")


class DueFilter(admin.SimpleListFilter):
    title = "expiry"
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("due", "Past expiry, action pending"), ("expires", "Has an expiry")]

    def queryset(self, request, queryset):
        if self.value() == "due":
            return queryset.filter(pk__in=expiry.due().values("pk"))
        if self.value() == "expires":
            return queryset.filter(expires__isnull=False)
        return queryset


@admin.register(RemoteUser)
class RemoteUserAdmin(admin.ModelAdmin):
    list_display = ("username", "server", "email", "expires", "disabled", "invitation", "created", "last_error")
    list_filter = (DueFilter, "server", "disabled")
    search_fields = ("username", "email")
    readonly_fields = ("server", "external_id", "share_id", "created", "invitation", "last_error")
    actions = ["extend_30_days", "delete_on_server"]

    @admin.action(description="Extend by 30 days")
    def extend_30_days(self, request, queryset):
        done = 0
        for user in list(queryset.select_related("server__service")):
            try:
                with transaction.atomic():
                    services.extend_user(user, days=30, actor=request.user.get_username())
                    tasks.queue_expiry(user)
                done += 1
            except services.InvitesError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        self.message_user(request, f"Extended {done} user(s) by 30 days.")

    @admin.action(description="Delete on the server")
    def delete_on_server(self, request, queryset):
        for user in list(queryset.select_related("server__service")):
            try:
                services.delete_user(user, actor=request.user.get_username())
                self.message_user(request, f"Deleted {user.username} on {user.server.name}.", messages.SUCCESS)
            except services.InvitesError as exc:
                self.message_user(request, exc.message, messages.ERROR)


class InvitationForm(forms.ModelForm):
    code = forms.CharField(required=False, max_length=10,
                           help_text="6 to 10 letters or digits; empty: a random 10-character code.")

    class Meta:
        model = Invitation
        fields = ["code", "expires", "duration", "unlimited", "max_uses", "servers", "libraries", "allow_downloads",
                  "allow_live_tv", "allow_mobile_uploads"]

    def clean_code(self):
        code = (self.cleaned_data.get("code") or "").strip().upper()
        if not code:
            return self.instance.code or new_code()
        if not CODE_RE.match(code):
            raise forms.ValidationError("A code is 6 to 10 letters (A-Z) or digits.")
        if Invitation.objects.filter(code__iexact=code).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("This code is already in use.")
        return code

    def clean(self):
        data = super().clean()
        servers, libraries = data.get("servers"), data.get("libraries")
        if servers is not None and libraries:
            stray = [lib.name for lib in libraries if lib.server not in servers]
            if stray:
                raise forms.ValidationError(f"Libraries not on the chosen servers: {', '.join(stray)}")
        return data


class UseInline(admin.TabularInline):
    model = InvitationUse
    extra = 0
    can_delete = False
    fields = ("username", "email", "used_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    form = InvitationForm
    list_display = ("code", "status_label", "created", "expires", "duration", "unlimited", "used_count", "max_uses",
                    "link")
    search_fields = ("code",)
    filter_horizontal = ("servers", "libraries")
    inlines = [UseInline]
    readonly_fields = ("used_count", "link")

    @admin.display(description="status")
    def status_label(self, obj):
        return obj.status

    @admin.display(description="link")
    def link(self, obj):
        if not obj.pk:
            return "-"
        return format_html(
            '<a href="{0}">{0}</a> <button type="button" '
            'onclick="navigator.clipboard.writeText(location.origin + \'{0}\'); this.textContent=\'Copied\'">'
            'Copy link</button>', obj.link())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("servers")

    def get_changeform_initial_data(self, request):
        return {"created": clock.now()}


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "action", "username", "server_name", "actor", "message")
    list_filter = ("action", "server_name")
    search_fields = ("username", "message")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False



@admin.register(InvitationUse)
class InvitationUseAdmin(admin.ModelAdmin):
    list_display = ("invitation", "username", "email", "used_at")
    search_fields = ("username", "email", "invitation__code")
    readonly_fields = ("invitation", "username", "email", "used_at", "users")

    def has_add_permission(self, request):
        return False
