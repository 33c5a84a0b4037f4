from django.urls import path, re_path

from homelab.api.views import not_found_view

from . import views

urlpatterns = [
    path("login", views.LoginView.as_view(), name="iptv-login"),
    path("channels", views.ChannelsView.as_view(), name="iptv-channels"),
    path("refresh", views.RefreshView.as_view(), name="iptv-refresh"),
    path("status", views.StatusView.as_view(), name="iptv-status"),
    path("stats", views.StatsView.as_view(), name="iptv-stats"),
    path("groups", views.GroupsView.as_view(), name="iptv-groups"),
    path("health", views.HealthView.as_view(), name="iptv-health"),
    re_path(r"^.*$", not_found_view(views.IPTVAPIView)),
]
