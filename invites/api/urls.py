from django.urls import re_path

from homelab.api.views import not_found_view

from .views import InvitesAPIView

urlpatterns = [
    re_path(r"^.*$", not_found_view(InvitesAPIView)),
]
