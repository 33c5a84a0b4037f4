from django import forms
from django.contrib import admin, messages
from rest_framework.exceptions import ValidationError

from integrations.models import Service

from . import services, tasks
from .api.serializers import RemoteURLField
from .models import DEFAULT_OUTPUT_FILENAME, DispatcharrLink


class DispatcharrLinkForm(forms.ModelForm):
    """Pick an integrations Service (e.g. one synced from Traefik), or type the URL and credentials: they go to a
    manual Service of type dispatcharr. The password is write-only: never rendered back; left blank, the stored
    one is kept. Saving goes through ``services.prepare_link_settings``, the rule ``PUT /api/dispatcharr/settings``
    follows: the credentials are checked against the remote when the link is enabled or they change."""

    name = forms.CharField(max_length=100, required=False, help_text="A label for this Dispatcharr instance.")
    enabled = forms.BooleanField(required=False, help_text="Push a refresh to this Dispatcharr after each "
                                                           "regeneration of the guide output.")
    service = forms.ModelChoiceField(Service.objects.order_by("name"), required=False,
                                     help_text="An integrations service (e.g. synced from Traefik) instead of typing "
                                               "its URL below.")
    url = forms.CharField(label="URL", max_length=500, required=False,
                          help_text="Base URL of the Dispatcharr instance, e.g. http://dispatcharr:9191 (not needed "
                                    "when a service is picked).")
    username = forms.CharField(max_length=150, required=False)
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False), required=False, strip=False,
        help_text="Write-only. Leave blank to keep the stored password.",
    )
    verify_tls = forms.BooleanField(label="verify TLS", required=False, initial=True)
    output_filename = forms.CharField(max_length=255, initial=DEFAULT_OUTPUT_FILENAME,
                                      help_text="The file name of this project's guide as the remote Dispatcharr's "
                                                "EPG source URL ends (used to discover the EPG source).")
    epg_id = forms.IntegerField(label="EPG source id", required=False, min_value=1, max_value=2**31 - 1,
                                help_text="The remote EPG source to refresh; blank: discovered by file name.")

    class Meta:
        model = DispatcharrLink
        fields: list[str] = []  # every field is the service's to apply (see clean)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        link = self.instance
        if link.pk:
            self.initial.update(name=link.name, enabled=link.enabled, service=link.service_id, url=link.url,
                                username=link.username, verify_tls=link.verify_tls,
                                output_filename=link.output_filename, epg_id=link.epg_id)

    def clean_url(self):
        value = self.cleaned_data.get("url") or ""
        if not value.strip():
            return ""
        try:
            return RemoteURLField().to_internal_value(value)
        except ValidationError as exc:
            raise forms.ValidationError(exc.detail[0]) from None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        link = self.instance
        changed = set(self.changed_data) if link.pk else {k for k, v in data.items() if v not in (None, "")}
        pick = data.get("service") if "service" in changed else None
        orphan_disabled = (link.pk and link.service_id is None and not pick and not data.get("enabled")
                           and not data.get("password"))  # its Service was deleted: disabling needs no password
        if not orphan_disabled and not data.get("password") and not link.password and not (pick and pick.api_password):
            self.add_error("password", "Enter the Dispatcharr password.")
            return data
        values = {key: data[key] for key in ("url", "username") if key in changed and data.get(key)}
        for key in ("name", "enabled", "verify_tls", "output_filename"):
            if key in changed or not link.pk:
                values[key] = data.get(key)
        if "epg_id" in changed:
            values["epg_id"] = data.get("epg_id")
        try:
            self.prepared = services.prepare_link_settings(link=link, service=pick,
                                                           password=data.get("password") or None, **values)
        except services.SettingsInvalid as exc:
            for field, problems in exc.errors.items():
                field = "service" if field == "service_id" else field
                self.add_error(field if field in self.fields else None, problems)
        except services.CredentialsRejected as exc:
            self.add_error(None, exc.message)
        return data


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

    def get_form(self, request, obj=None, change=False, **kwargs):
        # only the form's own fields: clean() hands them to the service, nothing is copied onto the row directly
        kwargs["fields"] = []
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj, form, change):
        form.prepared.save()  # obj is form.prepared.link: the settings rule of services.prepare_link_settings

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        for link in queryset.select_related("service"):
            result = services.check_link(link=link)
            level = messages.SUCCESS if result["success"] else messages.ERROR
            self.message_user(request, f"{link}: {result['message']}", level)

    @admin.action(description="Discover EPG source")
    def discover_epg_source(self, request, queryset):
        for link in queryset.select_related("service"):
            result = services.discover_for_link(link)
            level = messages.SUCCESS if result["success"] else messages.ERROR
            self.message_user(request, f"{link}: {result['message']}", level)

    @admin.action(description="Push refresh now")
    def push_refresh_now(self, request, queryset):
        queued, skipped = 0, []
        for link in queryset:
            if not link.enabled:
                skipped.append(str(link))
                continue
            tasks.queue_push(link.pk)
            queued += 1
        if queued:
            self.message_user(request, f"Queued a push to {queued} Dispatcharr link(s); the result shows in "
                                       "'last result' when it ends.")
        if skipped:
            self.message_user(request, f"Not pushed (disabled): {', '.join(skipped)}", messages.WARNING)
