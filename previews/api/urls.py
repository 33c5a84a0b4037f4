from django.urls import path, re_path

from homelab.api.views import not_found_view

from . import job_views, plex_views, views
from . import schedule_views, webhook_views  # part 2
from .base import PreviewsAPIView

urlpatterns = [
    path("health", views.HealthView.as_view()),
    path("auth/login", views.APILoginView.as_view()),
    path("setup/status", views.SetupStatusView.as_view()),
    path("setup/state", views.SetupStateView.as_view()),
    path("setup/complete", views.SetupCompleteView.as_view()),
    path("setup/token-info", views.TokenInfoView.as_view()),
    path("setup/set-token", views.SetTokenView.as_view()),
    path("settings", views.SettingsView.as_view()),
    path("system/config", views.SystemConfigView.as_view()),
    path("system/status", views.SystemStatusView.as_view()),
    path("plex/auth/pin", plex_views.PinView.as_view()),
    path("plex/auth/pin/<int:pin_id>", plex_views.PinCheckView.as_view()),
    path("plex/servers", plex_views.ServersView.as_view()),
    path("plex/libraries", plex_views.PlexLibrariesView.as_view()),
    path("plex/test", plex_views.PlexTestView.as_view()),
    path("libraries", plex_views.LibrariesView.as_view()),
    path("jobs", job_views.JobsView.as_view()),
    path("jobs/<str:job_id>", job_views.JobDetailView.as_view()),
    path("jobs/<str:job_id>/cancel", job_views.JobCancelView.as_view()),
    # part 2 (issue 10): schedules, webhooks, the path check
    path("schedules", schedule_views.SchedulesView.as_view()),
    path("schedules/<str:schedule_id>", schedule_views.ScheduleDetailView.as_view()),
    path("schedules/<str:schedule_id>/run", schedule_views.ScheduleRunView.as_view()),
    path("webhooks/plex", webhook_views.PlexWebhookView.as_view()),
    path("webhooks/sonarr", webhook_views.SonarrWebhookView.as_view()),
    path("webhooks/radarr", webhook_views.RadarrWebhookView.as_view()),
    path("plex/path-check", webhook_views.PathCheckView.as_view()),
    re_path(r"^.*$", not_found_view(PreviewsAPIView)),
]
