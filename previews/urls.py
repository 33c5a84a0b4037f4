"""/previews/: the login form and the dashboard (previews.dashboard); the API is mounted at /previews/api/ by
homelab.urls, the live events at /previews/ws/jobs by previews.realtime."""
from django.urls import path

from . import dashboard
from .api import views

urlpatterns = [
    path("", dashboard.dashboard),
    path("login", views.FormLoginView.as_view()),
    path("logout", dashboard.sign_out),
]
