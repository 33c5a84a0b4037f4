"""Admin: settings (the Plex service is picked from the integrations registry), the wizard's state, jobs with
Cancel / Run again, and items with their errors (and the BIF's frame count read back)."""
from django.contrib import admin, messages
from django.db import transaction

from homelab.admin_mixins import JobRowAdmin

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
class JobAdmin(JobRowAdmin, admin.ModelAdmin):
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


# --- part 2 (issue 10): schedules and webhooks ----------------------------------------------------------------

from django import forms  # noqa: E402

from . import schedules as schedule_service  # noqa: E402
from .models import Schedule, WebhookEvent  # noqa: E402


class ScheduleForm(forms.ModelForm):
    """The schedule with its beat row's timing and ``enabled`` (written to the PeriodicTask, read back from it)."""

    schedule_type = forms.ChoiceField(choices=[("cron", "cron"), ("interval", "interval")])
    cron_expression = forms.CharField(required=False, help_text="Five fields, in UTC: \"0 2 * * *\".")
    interval_minutes = forms.IntegerField(required=False, min_value=1, max_value=schedule_service.MAX_INTERVAL_MINUTES)
    enabled = forms.BooleanField(required=False, initial=True)

    class Meta:
        model = Schedule
        fields = ("name", "library_id", "library_name")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.periodic_task_id:  # (a new one has a pk already: its UUID default)
            row = schedule_service.as_dict(self.instance)
            for field in ("schedule_type", "cron_expression", "interval_minutes", "enabled"):
                self.initial[field] = row.get(field)

    def timing(self) -> dict:
        data = self.cleaned_data
        values = {"schedule_type": data["schedule_type"], "enabled": data["enabled"]}
        if data["schedule_type"] == "cron":
            values["cron_expression"] = data.get("cron_expression") or ""
        else:
            values["interval_minutes"] = data.get("interval_minutes")
        return values

    def clean(self):
        data = super().clean()
        if "schedule_type" in data:
            try:
                values = self.timing()
                if values.get("interval_minutes", 1) is None:
                    raise schedule_service.ScheduleError("interval_minutes", "An interval schedule needs "
                                                                             "interval_minutes (at least 1).")
                schedule_service.check(values, creating=True)
                if values["schedule_type"] == "cron":
                    schedule_service.parse_cron(values["cron_expression"])
            except schedule_service.ScheduleError as exc:
                self.add_error(exc.field, exc.message)
        return data


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    form = ScheduleForm
    list_display = ("name", "library_id", "library_name", "timing", "enabled", "next_run", "last_job")
    search_fields = ("name", "library_id", "library_name")
    readonly_fields = ("periodic_task", "last_job", "created_at")
    fields = ("name", "library_id", "library_name", "schedule_type", "cron_expression", "interval_minutes",
              "enabled", "periodic_task", "last_job", "created_at")
    actions = ["run_now"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("periodic_task__crontab", "periodic_task__interval",
                                                            "last_job")

    @admin.display(description="when")
    def timing(self, obj):
        row = schedule_service.as_dict(obj)
        return f"cron {row['cron_expression']}" if "cron_expression" in row else f"every {row.get('interval_minutes')} min"

    @admin.display(boolean=True)
    def enabled(self, obj):
        return obj.periodic_task.enabled

    @admin.display(description="next run (UTC)")
    def next_run(self, obj):
        return schedule_service.as_dict(obj)["next_run"]

    def save_model(self, request, obj, form, change):
        values = form.timing()
        if change:
            base = {f: form.cleaned_data[f] for f in ("name", "library_id", "library_name")}
            schedule_service.update_schedule(Schedule.objects.get(pk=obj.pk), {**base, **values})
        else:
            created = schedule_service.create_schedule(name=obj.name, library_id=obj.library_id,
                                                       library_name=obj.library_name, **values)
            obj.pk = created.pk
            obj.periodic_task = created.periodic_task

    def delete_model(self, request, obj):
        schedule_service.delete_schedule(obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            schedule_service.delete_schedule(obj)

    @admin.action(description="Run now (a job for the library, unless one is running there)")
    def run_now(self, request, queryset):
        for schedule in queryset:
            with transaction.atomic():
                job, created = schedule_service.start(schedule.pk, by=f"admin {request.user.get_username()}")
                if created:
                    tasks.queue_job(job.pk)
            if job is not None:
                self.message_user(request, f"{schedule.name}: job {job.pk} " + ("started." if created else
                                                                                "is still running."))


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "source", "event_type", "title", "status", "attempts", "next_attempt_at", "job")
    list_filter = ("source", "status")
    search_fields = ("title", "file_path", "plex_id")
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]
    actions = ["try_again"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Try again now (look for the file in Plex)")
    def try_again(self, request, queryset):
        from .schedule_tasks import queue_resolve

        count = 0
        for event in queryset.exclude(status=WebhookEvent.Status.QUEUED):
            WebhookEvent.objects.filter(pk=event.pk).update(status=WebhookEvent.Status.WAITING, next_attempt_at=None,
                                                            attempts=0)
            queue_resolve(event.pk)
            count += 1
        self.message_user(request, f"{count} webhook(s) queued again.", messages.SUCCESS)
