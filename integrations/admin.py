from django import forms
from django.contrib import admin, messages

from . import services
from .api.serializers import is_http_url
from .models import Service

MASK = "****"


class ServiceAdminForm(forms.ModelForm):
    """Credentials are never shown: a stored secret appears as a mask; leave it to keep, clear it to remove."""

    api_password = forms.CharField(required=False, widget=forms.PasswordInput(render_value=True), label="API password")
    api_key = forms.CharField(required=False, widget=forms.PasswordInput(render_value=True), label="API key")

    class Meta:
        model = Service
        exclude = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("api_password", "api_key"):
            if self.instance.pk and getattr(self.instance, name):
                self.initial[name] = MASK

    def _clean_secret(self, name):
        value = self.cleaned_data.get(name, "")
        return getattr(self.instance, name) if value == MASK else value

    def _clean_url(self, name):
        value = (self.cleaned_data.get(name) or "").strip()
        if value and not is_http_url(value):
            raise forms.ValidationError("Must be an http:// or https:// URL.")
        return value

    def clean_url(self):
        return self._clean_url("url")

    def clean_api_url(self):
        return self._clean_url("api_url")

    def clean_api_password(self):
        return self._clean_secret("api_password")

    def clean_api_key(self):
        return self._clean_secret("api_key")


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    form = ServiceAdminForm
    list_display = ("name", "service_type", "url", "api_url", "source", "seen", "enabled", "api_detected",
                    "api_auth_type", "api_detected_at")
    list_filter = ("api_detected", "api_auth_type", "source", "seen", "enabled", "service_type")
    search_fields = ("name", "slug", "url", "api_url", "traefik_router", "service_type")
    readonly_fields = ("source", "traefik_router", "traefik_service", "entry_points", "host_rule", "labels",
                       "last_seen", "seen", "api_detected", "api_base_path", "api_detection_method", "api_evidence",
                       "api_detected_at", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "slug", "service_type", "enabled", "url", "api_url", "api_url_locked",
                           "verify_ssl")}),
        ("Credentials", {"fields": ("api_auth_type", "api_auth_type_locked", "api_username", "api_password", "api_key", "api_key_header",
                                    "api_key_query", "api_auth_endpoint")}),
        ("API detection", {"fields": ("api_detected", "api_base_path", "api_detection_method", "api_evidence",
                                      "api_detected_at")}),
        ("Traefik", {"fields": ("source", "traefik_router", "traefik_service", "entry_points", "host_rule", "labels",
                                "seen", "last_seen", "created_at", "updated_at")}),
    )
    prepopulated_fields = {"slug": ("name",)}
    actions = ["redetect_api", "test_connection"]

    def save_model(self, request, obj, form, change):
        if change and "api_url" in form.changed_data:
            obj.api_url_locked = True
        if "api_auth_type" in form.changed_data:  # chosen by hand: kept by re-detection; blank hands it back
            obj.api_auth_type_locked = bool(obj.api_auth_type)
        super().save_model(request, obj, form, change)

    @admin.action(description="Re-detect API")
    def redetect_api(self, request, queryset):
        results = services.detect_services(list(queryset), force=True)
        detected = sum(1 for r in results.values() if r["detected"])
        self.message_user(request, f"Re-detected {len(results)} service(s): {detected} with an API.")

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        for service in queryset:
            result = services.test_connection(service)
            if result["ok"]:
                self.message_user(request, f"{service.name}: OK (HTTP {result['status']} from {result['path']}, "
                                           f"{result['elapsed_ms']} ms)", messages.SUCCESS)
            else:
                self.message_user(request, f"{service.name}: failed: {result.get('error')}", messages.ERROR)
