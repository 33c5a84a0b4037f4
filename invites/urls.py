"""The join pages (mounted at the site root: /join, /j/<code>)."""
from django.urls import path

from . import views

urlpatterns = [
    path("join", views.ask_code, name="invites-ask-code"),
    path("j/<str:code>", views.join, name="invites-join"),
    path("j/<str:code>/plex", views.plex_start, name="invites-plex-start"),
    path("j/<str:code>/plex/callback", views.plex_callback, name="invites-plex-callback"),
]
