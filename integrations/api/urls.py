from django.urls import path, re_path

from homelab import converters  # noqa: F401 - registers <int64:...>
from homelab.api.views import not_found_view

from .views import (ServiceDetailView, ServiceDetectView, ServiceDocsView, ServiceListView, ServiceProxyView,
                    ServicesAPIView, ServiceTestView)

urlpatterns = [
    path("", ServiceListView.as_view(), name="services-list"),
    path("<int64:pk>/", ServiceDetailView.as_view(), name="services-detail"),
    path("<int64:pk>/proxy/", ServiceProxyView.as_view(), name="services-proxy"),
    path("<int64:pk>/detect/", ServiceDetectView.as_view(), name="services-detect"),
    path("<int64:pk>/test/", ServiceTestView.as_view(), name="services-test"),
    path("<int64:pk>/docs/", ServiceDocsView.as_view(), name="services-docs"),
    re_path(r"^.*$", not_found_view(ServicesAPIView)),
]
