from django.urls import re_path

from epg.api.views import EPGAPIView
from homelab.api.views import not_found_view

from .views import DiscoverView, SettingsView, TestConnectionView

urlpatterns = [
    re_path(r"^test/?$", TestConnectionView.as_view(), name="dispatcharr-test"),
    re_path(r"^discover/?$", DiscoverView.as_view(), name="dispatcharr-discover"),
    re_path(r"^settings/?$", SettingsView.as_view(), name="dispatcharr-settings"),
    re_path(r"^.*$", not_found_view(EPGAPIView)),
]
