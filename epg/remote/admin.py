from django import forms
from django.contrib import admin, messages

from integrations.models import Service

from . import services
from .api.serializers import RemoteURLField
from .models import DispatcharrLink


class DispatcharrLinkForm(forms.ModelForm):
    """Pick an integrations Service (e.g. one synced from Traefik), or type the URL and credentials: they go to a
    manual Service of type dispatcharr. The password is write-only: never rendered back; left blank, the stored
    one is kept."""

    url = forms.CharField(label="URL", max_length=500, required=False,
                          help_text="Base URL of the Dispatcharr instance, e.g. http://dispatcharr:9191 (not needed "
                                    "when a service is picked).")
    username = forms.CharField(max_length=150, required=False)
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False), required=False, strip=False,
        help_text="Write-only. Leave blank to keep the stored password.",
    )
    verify_tls = forms.BooleanField(label="verify TLS", required=False, initial=True)

    class Meta:
        model = DispatcharrLink
        fields = ["name", "enabled", "service", "output_filename", "epg_id"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.order_by("name")
        if self.instance.pk and self.instance.service_id:
            self.initial.update(url=self.instance.url, username=self.instance.username,
                                verify_tls=self.instance.verify_tls)

    def clean_url(self):
        value = self.cleaned_data.get("url") or ""
        if not value.strip():
            return ""
        try:
            return RemoteURLField().to_internal_value(value)
        except Exception as exc:  # a DRF ValidationError: its message
            raise forms.ValidationError(getattr(exc, "detail", [str(exc)])[0]) from None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        changed = set(self.changed_data)
        pick = data.get("service") if "service" in changed else None
        values = {key: data.get(key) for key in ("url", "username") if key in changed and data.get(key)}
        if "verify_tls" in changed or not self.instance.pk:
            values["verify_tls"] = data.get("verify_tls")
        try:
            service = services.remote_service(link=self.instance, pick=pick, password=data.get("password") or None,
                                              **values)
        except services.SettingsInvalid as exc:
            for field, messages_ in exc.errors.items():
                self.add_error(field if field in self.fields else None, messages_)
            return data
        if not service.target_url:
            self.add_error("url", "Enter the Dispatcharr URL, or pick a service.")
        if not service.api_username:
            self.add_error("username", "Enter the Dispatcharr username.")
        if not service.api_password:
            self.add_error("password", "Enter the Dispatcharr password.")
        elif services._link_using(service, url=service.target_url.rstrip("/"), username=service.api_username,
                                  exclude_pk=self.instance.pk):
            self.add_error("url", "Another Dispatcharr link already uses this URL and username.")
        self.remote = service
        return data

    def save(self, commit=True):
        self.instance.service = services.save_service(self.remote)
        return super().save(commit=commit)


@admin.register(DispatcharrLink)
class DispatcharrLinkAdmin(admin.ModelAdmin):
    form = DispatcharrLinkForm
    list_display = ("__str__", "enabled", "url", "epg_id", "epg_name", "last_result", "last_sync", "auth_failures",
                    "short_message")
    list_filter = ("enabled", "last_result")
    list_select_related = ("service",)
    search_fields = ("name", "service__name", "service__api_url", "service__api_username", "epg_name")
    readonly_fields = ("epg_name", "auth_failures", "last_sync", "last_attempt_at", "last_result", "last_message",
                       "last_duration", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "enabled", "service", "url", "username", "password", "verify_tls")}),
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
        new_credentials = {"service", "url", "username", "enabled"} & set(form.changed_data) or form.data.get("password")
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
