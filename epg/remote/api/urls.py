from django.urls import re_path

from epg.api.views import EPGAPIView
from homelab.api.views import not_found_view

urlpatterns = [
    re_path(r"^.*$", not_found_view(EPGAPIView)),
]
