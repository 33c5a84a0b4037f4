"""Test-only routes: views on each app's base class that raise, mounted beside the real URL map."""
from django.urls import include, path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from channels.api.views import IPTVAPIView
from epg.api.views import EPGAPIView
from homelab.api.views import HomelabAPIView
from homelab.models import APIKey
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

    class Raw(base):
        """Reads the raw body, as the service proxy does (Django enforces DATA_UPLOAD_MAX_MEMORY_SIZE there)."""

        permission_classes = [AllowAny]

        def post(self, request):
            return Response({"size": len(request.body)})

    class Gone(base):
        """A row deleted while the request ran."""

        permission_classes = [AllowAny]

        def get(self, request):
            raise APIKey.DoesNotExist("APIKey matching query does not exist.")

    return [path("bad", Bad.as_view()), path("boom", Boom.as_view()), path("raw", Raw.as_view()),
            path("gone", Gone.as_view())]


urlpatterns = [path(f"__dialect__/{name}/", include(raising_views(base))) for name, base in BASES.items()]
urlpatterns += [path("", include("homelab.urls"))]
