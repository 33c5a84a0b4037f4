from django.urls import path, re_path

from .views import HomelabAPIView, TokenObtainView, TokenRefreshAPIView, not_found_view

urlpatterns = [
    path("token/", TokenObtainView.as_view(), name="token_obtain_pair"),
    path("token/refresh/", TokenRefreshAPIView.as_view(), name="token_refresh"),
    re_path(r"^.*$", not_found_view(HomelabAPIView)),
]
