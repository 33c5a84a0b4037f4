from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce

from homelab.admin_mixins import JobRowAdmin

from . import catalogue, selectors, tasks
from .models import Channel, Provider

SETTINGS = ("name", "source_type", "service", "file", "verify_ssl", "user_agent", "ttl_seconds", "include_groups",
            "exclude_groups", "enabled", "is_default")


@admin.register(Provider)
class ProviderAdmin(JobRowAdmin, admin.ModelAdmin):
    list_display = ("name", "source_type", "host", "enabled", "is_default", "status_badge", "progress",
                    "channel_count", "refreshed_at", "short_message")
    list_filter = ("source_type", "status", "enabled")
    search_fields = ("name",)
    autocomplete_fields = ("service",)
    readonly_fields = ("status", "progress", "last_message", "last_error", "refreshed_at", "channel_count", "tvg_url",
                       "heartbeat_at", "created_at")
    fieldsets = (
        (None, {"fields": SETTINGS}),
        ("Status", {"fields": ("status", "progress", "last_message", "last_error", "refreshed_at", "channel_count",
                               "tvg_url", "heartbeat_at", "created_at")}),
    )
    actions = ["refresh_now"]

    def save_model(self, request, obj, form, change):
        if change:  # only the settings: a refresh running meanwhile keeps its status and counts
            obj.save(update_fields=[f for f in SETTINGS if f in form.changed_data] or ["name"])
        else:
            super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        with transaction.atomic():
            catalogue.lock_providers([obj.pk])
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            catalogue.lock_providers(queryset.values_list("pk", flat=True))
            super().delete_queryset(request, queryset)

    @admin.action(description="Refresh now")
    def refresh_now(self, request, queryset):
        queued = sum(1 for p in queryset if tasks.queue_refresh(p.pk, "Refresh requested from the admin."))
        running = queryset.count() - queued
        if queued:
            self.message_user(request, f"Queued {queued} refresh(es).", messages.SUCCESS)
        if running:
            self.message_user(request, f"{running} provider(s) already refreshing; nothing new started.",
                              messages.INFO)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "group_title", "category", "stream_type", "provider", "tvg_id", "epg_channel_id",
                    "epg_match")
    list_filter = ("provider", "category", "stream_type", "epg_match")
    search_fields = ("search",)
    list_select_related = ("provider",)
    show_full_result_count = False
    readonly_fields = [f.name for f in Channel._meta.fields]

    def get_search_results(self, request, queryset, search_term):
        """The API's search: case- and accent-insensitive over name, tvg-name, tvg-id and group."""
        matching = selectors.search_filter(search_term)
        return (queryset if matching is None else queryset.filter(matching)), False

    def get_list_filter(self, request):
        return (*self.list_filter, GroupFilter)

    def has_add_permission(self, request):
        return False  # channels come from the provider's playlist

    def delete_model(self, request, obj):
        with transaction.atomic():
            catalogue.lock_providers([obj.provider_id])
            super().delete_model(request, obj)
            _recount([obj.provider_id])

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            providers = set(queryset.values_list("provider_id", flat=True))
            catalogue.lock_providers(providers)
            super().delete_queryset(request, queryset)
            _recount(providers)


def _recount(provider_ids) -> None:
    """Channels deleted by hand: the provider's count follows, and a new generation drops kept search results."""
    count = Channel.objects.filter(provider=OuterRef("pk")).order_by().values("provider").annotate(n=Count("id"))
    Provider.objects.filter(pk__in=list(provider_ids)).update(
        channel_count=Coalesce(Subquery(count.values("n")), 0), generation=F("generation") + 1)


class GroupFilter(admin.SimpleListFilter):
    title = "group"
    parameter_name = "group"

    def lookups(self, request, model_admin):
        groups = (Channel.objects.order_by("group_title").values_list("group_title", flat=True).distinct()[:300])
        return [(g, g or "(none)") for g in groups]

    def queryset(self, request, queryset):
        if self.value() is not None:
            return queryset.filter(group_title=self.value())
        return queryset
