"""/previews/: the login form (the API is mounted at /previews/api/ by homelab.urls)."""
from django.urls import path

from .api import views

urlpatterns = [
    path("login", views.FormLoginView.as_view()),
]
