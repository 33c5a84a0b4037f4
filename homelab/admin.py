from django.contrib import admin, messages
from django.utils.html import format_html

from .models import APIKey, SiteSecret
from .webtoken import is_env_controlled, regenerate_web_token


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    """API keys: the raw key is shown once, in the message after "Save"; only its hash is stored."""

    list_display = ("name", "prefix", "created_by", "created_at", "last_used_at", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "prefix", "created_by__username")
    readonly_fields = ("prefix", "created_by", "created_at", "last_used_at")
    fields = ("name", "is_active", "prefix", "created_by", "created_at", "last_used_at")
    actions = ["revoke", "reactivate"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        key, raw = APIKey.generate(name=obj.name, user=request.user)
        obj.pk, obj.key_hash, obj.prefix, obj.created_by = key.pk, key.key_hash, key.prefix, key.created_by
        obj.created_at = key.created_at
        self.message_user(
            request,
            format_html("API key created. Copy it now, it will not be shown again: <code>{}</code>", raw),
            messages.WARNING,
        )

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request, queryset):
        count = queryset.update(is_active=False)
        self.message_user(request, f"Revoked {count} API key(s).")

    @admin.action(description="Re-activate selected API keys")
    def reactivate(self, request, queryset):
        count = queryset.update(is_active=True)
        self.message_user(request, f"Re-activated {count} API key(s).")


@admin.register(SiteSecret)
class SiteSecretAdmin(admin.ModelAdmin):
    """The installation's own secrets (the generated web token). Values are never shown; "Regenerate the web
    token" replaces it and shows the new one once."""

    list_display = ("name", "created_at", "value_masked")
    readonly_fields = ("name", "created_at", "value_masked")
    fields = ("name", "created_at", "value_masked")
    actions = ["regenerate"]

    @admin.display(description="value")
    def value_masked(self, obj):
        return "****"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Regenerate the web token")
    def regenerate(self, request, queryset):
        if is_env_controlled():
            self.message_user(request, "The web token is set by WEB_AUTH_TOKEN and cannot be changed here.",
                              messages.ERROR)
            return
        token = regenerate_web_token()
        self.message_user(
            request,
            format_html("New web token (the old one no longer works). Copy it now, it will not be shown again: "
                        "<code>{}</code>", token),
            messages.WARNING,
        )
