from django import forms
from django.contrib import admin, messages

from . import services
from .models import DispatcharrLink, normalize_url


class DispatcharrLinkForm(forms.ModelForm):
    """The password is write-only: never rendered back; left blank on change, the stored one is kept."""

    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False), required=False, strip=False,
        help_text="Write-only. Leave blank to keep the stored password.",
    )

    class Meta:
        model = DispatcharrLink
        fields = "__all__"

    def clean_url(self):
        return normalize_url(self.cleaned_data.get("url", ""))

    def clean_password(self):
        password = self.cleaned_data.get("password") or ""
        if not password:
            if self.instance.pk and self.instance.password:
                return self.instance.password
            raise forms.ValidationError("Enter the Dispatcharr password.")
        return password


@admin.register(DispatcharrLink)
class DispatcharrLinkAdmin(admin.ModelAdmin):
    form = DispatcharrLinkForm
    list_display = ("__str__", "enabled", "url", "epg_id", "epg_name", "last_result", "last_sync", "auth_failures",
                    "short_message")
    list_filter = ("enabled", "last_result")
    search_fields = ("name", "url", "username", "epg_name")
    readonly_fields = ("last_sync", "last_attempt_at", "last_result", "last_message", "last_duration",
                       "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "enabled", "url", "username", "password", "verify_tls")}),
        ("Remote EPG source", {"fields": ("output_filename", "epg_id", "epg_name")}),
        ("Last push", {"fields": ("last_result", "last_message", "last_sync", "last_attempt_at", "last_duration",
                                  "auth_failures", "created_at", "updated_at")}),
    )
    actions = ["test_connection", "discover_epg_source", "push_refresh_now"]

    @admin.display(description="last message")
    def short_message(self, obj):
        text = obj.last_message or ""
        return text if len(text) <= 80 else text[:79] + "…"

    def save_model(self, request, obj, form, change):
        new_credentials = {"url", "username", "enabled"} & set(form.changed_data) or form.data.get("password")
        if change and new_credentials:
            obj.auth_failures = 0  # a fresh start for the automatic disabling
        super().save_model(request, obj, form, change)

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        from .clients import manager_for_link

        for link in queryset:
            result = services.check_connection(manager_for_link(link, fresh_login=True))
            level = messages.SUCCESS if result["success"] else messages.ERROR
            self.message_user(request, f"{link}: {result['message']}", level)

    @admin.action(description="Discover EPG source")
    def discover_epg_source(self, request, queryset):
        from .clients import manager_for_link

        for link in queryset:
            result = services.discover_for_link(link, manager=manager_for_link(link))
            level = messages.SUCCESS if result["success"] else messages.ERROR
            self.message_user(request, f"{link}: {result['message']}", level)

    @admin.action(description="Push refresh now")
    def push_refresh_now(self, request, queryset):
        queued, skipped = 0, []
        for link in queryset:
            if not link.enabled:
                skipped.append(str(link))
                continue
            services.queue_push(link.pk)
            queued += 1
        if queued:
            self.message_user(request, f"Queued a push to {queued} Dispatcharr link(s); the result shows in "
                                       "'last result' when it ends.")
        if skipped:
            self.message_user(request, f"Not pushed (disabled): {', '.join(skipped)}", messages.WARNING)
