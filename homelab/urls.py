"""The URL map (DESIGN.md). Each mount ends in a catch-all that answers 404 in the mount's dialect."""
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from channels.output import ChannelsM3UView
from homelab.api.views import HealthView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", HealthView.as_view(), name="healthz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/accounts/", include("homelab.api.urls")),
    path("api/services/", include("integrations.api.urls")),
    path("api/epg/", include("epg.api.urls")),
    path("api/dispatcharr/", include("epg.remote.api.urls")),
    path("output/channels.m3u", ChannelsM3UView.as_view(), name="channels-m3u"),
    path("output/", include("epg.output_urls")),
    path("iptv/", include("channels.api.urls")),
    path("previews/api/", include("previews.api.urls")),
    path("previews/", include("previews.urls")),
    path("invites/api/", include("invites.api.urls")),
    path("", include("invites.urls")),  # the join pages: /join, /j/<code>
]
