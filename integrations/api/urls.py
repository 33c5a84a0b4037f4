from django.urls import path, re_path

from homelab.api.views import not_found_view

from .views import (ServiceDetailView, ServiceDetectView, ServiceDocsView, ServiceListView, ServiceProxyView,
                    ServicesAPIView, ServiceTestView)

urlpatterns = [
    path("", ServiceListView.as_view(), name="services-list"),
    path("<int:pk>/", ServiceDetailView.as_view(), name="services-detail"),
    path("<int:pk>/proxy/", ServiceProxyView.as_view(), name="services-proxy"),
    path("<int:pk>/detect/", ServiceDetectView.as_view(), name="services-detect"),
    path("<int:pk>/test/", ServiceTestView.as_view(), name="services-test"),
    path("<int:pk>/docs/", ServiceDocsView.as_view(), name="services-docs"),
    re_path(r"^.*$", not_found_view(ServicesAPIView)),
]
