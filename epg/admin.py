from django import forms
from django.contrib import admin, messages
from django.db import transaction

from homelab.admin_mixins import JobRowAdmin

from . import services, tasks
from .models import EPGChannel, EPGSource, Programme


@admin.register(EPGSource)
class EPGSourceAdmin(JobRowAdmin, admin.ModelAdmin):
    list_display = ("name", "source_type", "is_active", "status_badge", "progress", "channel_count",
                    "programme_count", "priority", "refresh_interval", "updated_at", "short_message")
    list_filter = ("source_type", "status", "is_active")
    search_fields = ("name",)  # the URL is encrypted: the database cannot search it
    readonly_fields = ("status", "status_changed_at", "progress", "last_message", "created_at", "updated_at",
                       "channel_count", "programme_count", "generation", "periodic_task")
    fieldsets = (
        (None, {"fields": ("name", "source_type", "url", "file", "file_path", "is_active", "priority",
                           "refresh_interval")}),
        ("Status", {"fields": ("status", "status_changed_at", "progress", "last_message", "updated_at",
                               "channel_count", "programme_count", "generation", "periodic_task", "created_at")}),
    )
    actions = ["refresh_now"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "url":  # a one-line input, as a URL is (the column is text: it is encrypted)
            kwargs["widget"] = forms.TextInput(attrs={"size": 100})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:  # only what the form changed: an import running meanwhile keeps its status and counts
            obj.save_settings(form.changed_data)
        else:
            super().save_model(request, obj, form, change)

    @admin.action(description="Refresh now")
    def refresh_now(self, request, queryset):
        queued, running, refused = 0, 0, []
        for source in queryset:
            try:
                with transaction.atomic():
                    if tasks.request_import(source):
                        queued += 1
                    else:
                        running += 1
            except services.RefreshRefused as exc:
                refused.append(f"{source.name}: {exc}")
        if queued:
            self.message_user(request, f"Queued {queued} refresh(es).", messages.SUCCESS)
        if running:
            self.message_user(request, f"{running} source(s) already refreshing; nothing new started.", messages.INFO)
        for line in refused:
            self.message_user(request, line, messages.WARNING)


@admin.register(EPGChannel)
class EPGChannelAdmin(admin.ModelAdmin):
    list_display = ("tvg_id", "name", "source", "generation")
    list_filter = ("source",)
    search_fields = ("tvg_id", "name")
    list_select_related = ("source",)

    def get_queryset(self, request):
        return super().get_queryset(request).current()


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ("title", "channel", "start", "stop", "season", "episode", "is_new", "is_live")
    list_filter = ("is_new", "is_live", "is_premiere", "is_finale")
    search_fields = ("title", "channel__tvg_id")
    raw_id_fields = ("channel",)
    list_select_related = ("channel",)
    date_hierarchy = "start"
    show_full_result_count = False
