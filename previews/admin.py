"""Admin: settings (the Plex service is picked from the integrations registry), the wizard's state, jobs with
Cancel / Run again, and items with their errors (and the BIF's frame count read back)."""
from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html

from . import services, tasks
from .models import Job, JobItem, PreviewSettings, SetupState


@admin.register(PreviewSettings)
class PreviewSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "plex_service", "plex_config_folder", "gpu_threads", "cpu_threads",
                    "thumbnail_interval", "thumbnail_quality", "updated_at")
    autocomplete_fields = ()
    fieldsets = (
        ("Plex", {"fields": ("plex_service", "plex_name", "plex_config_folder", "selected_libraries",
                             "media_path")}),
        ("Path mapping", {"fields": ("plex_videos_path_mapping", "plex_local_videos_path_mapping")}),
        ("Thumbnails", {"fields": ("gpu_threads", "cpu_threads", "thumbnail_interval", "thumbnail_quality")}),
    )

    def has_add_permission(self, request):
        return not PreviewSettings.objects.exists()


@admin.register(SetupState)
class SetupStateAdmin(admin.ModelAdmin):
    list_display = ("__str__", "step", "completed", "completed_at", "updated_at")
    actions = ["restart"]

    @admin.action(description="Restart the setup wizard")
    def restart(self, request, queryset):
        queryset.update(step=0, data={}, completed=False, completed_at=None)
        self.message_user(request, "The setup wizard starts again at step 0.", messages.SUCCESS)


class JobItemInline(admin.TabularInline):
    model = JobItem
    extra = 0
    can_delete = False
    fields = ("title", "status", "worker_kind", "attempts", "error")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "library_name", "library_id", "status_badge", "progress", "total_items",
                    "completed_items", "failed_items", "skipped_items", "created_at", "finished_at")
    list_filter = ("status",)
    search_fields = ("library_name", "library_id", "last_error")
    readonly_fields = ("id", "status", "progress", "total_items", "completed_items", "failed_items",
                       "skipped_items", "cancelled_items", "created_at", "started_at", "finished_at", "last_error",
                       "heartbeat_at")
    fields = ("library_id", "library_name") + readonly_fields
    inlines = [JobItemInline]
    actions = ["cancel", "run_again"]

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        colour = {"completed": "green", "failed": "red", "running": "orange", "cancelled": "gray"}.get(obj.status,
                                                                                                     "black")
        return format_html('<b style="color:{}">{}</b>', colour, obj.status)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            tasks.queue_job(obj.pk)

    @admin.action(description="Cancel")
    def cancel(self, request, queryset):
        done = sum(1 for job in queryset if services.cancel_job(job.pk))
        self.message_user(request, f"Cancelled {done} job(s); {queryset.count() - done} had already finished.",
                          messages.SUCCESS)

    @admin.action(description="Run again (a new job for the same library)")
    def run_again(self, request, queryset):
        with transaction.atomic():
            for job in queryset:
                new = services.create_job(library_id=job.library_id, library_name=job.library_name)
                tasks.queue_job(new.pk)
        self.message_user(request, f"Queued {queryset.count()} new job(s).", messages.SUCCESS)


@admin.register(JobItem)
class JobItemAdmin(admin.ModelAdmin):
    list_display = ("title", "job", "status", "worker_kind", "worker_name", "attempts", "short_error",
                    "finished_at")
    list_filter = ("status", "worker_kind", "missing_file")
    search_fields = ("title", "plex_path", "local_path", "error", "media_hash")
    readonly_fields = ("job", "plex_id", "title", "plex_path", "local_path", "media_hash", "bif_path", "status",
                       "worker_kind", "worker_name", "attempts", "frames", "error", "missing_file", "started_at",
                       "finished_at", "heartbeat_at", "bif_summary")

    def has_add_permission(self, request):
        return False

    @admin.display(description="error")
    def short_error(self, obj):
        text = obj.error or ""
        return text if len(text) <= 120 else text[:117] + "..."

    @admin.display(description="BIF on disk")
    def bif_summary(self, obj):
        try:
            from .parsers import BifError, read_bif
        except ImportError:
            return "-"
        try:
            bif = read_bif(obj.bif_path)
        except (OSError, BifError) as exc:
            return f"not readable: {exc}"
        frames = getattr(bif, "frames", None) or []
        interval = getattr(bif, "interval_ms", None) or getattr(bif, "interval", None)
        return f"{len(frames)} frame(s), {interval} ms apart"
