from django.urls import path, re_path

from .views import HomelabAPIView, MeView, TokenObtainView, TokenRefreshAPIView, not_found_view

urlpatterns = [
    path("token/", TokenObtainView.as_view(), name="token_obtain_pair"),
    path("token/refresh/", TokenRefreshAPIView.as_view(), name="token_refresh"),
    path("me/", MeView.as_view(), name="me"),
    re_path(r"^.*$", not_found_view(HomelabAPIView)),
]
