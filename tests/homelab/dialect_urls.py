"""Test-only routes: views on each app's base class that raise, mounted beside the real URL map."""
from django.urls import include, path
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from channels.api.views import IPTVAPIView
from epg.api.views import EPGAPIView
from homelab.api.views import HomelabAPIView
from integrations.api.views import ServicesAPIView
from invites.api.views import InvitesAPIView
from previews.api.views import PreviewsAPIView

BASES = {
    "accounts": HomelabAPIView,
    "epg": EPGAPIView,
    "iptv": IPTVAPIView,
    "services": ServicesAPIView,
    "previews": PreviewsAPIView,
    "invites": InvitesAPIView,
}


class Input(serializers.Serializer):
    name = serializers.CharField()


def raising_views(base):
    class Bad(base):
        permission_classes = [AllowAny]

        def post(self, request):
            Input(data=request.data).is_valid(raise_exception=True)

    class Boom(base):
        permission_classes = [AllowAny]

        def get(self, request):
            raise RuntimeError("internal detail: password=hunter2")

    return [path("bad", Bad.as_view()), path("boom", Boom.as_view())]


urlpatterns = [path(f"__dialect__/{name}/", include(raising_views(base))) for name, base in BASES.items()]
urlpatterns += [path("", include("homelab.urls"))]
