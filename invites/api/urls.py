"""Wizarr's routes, without a trailing slash as Wizarr has them (one is accepted too)."""
from django.urls import re_path

from homelab.api.views import not_found_view

from . import views


def route(pattern: str, view, name: str):
    pattern = pattern.replace("<pk>", r"(?P<pk>[0-9]+)")
    return re_path(rf"^{pattern}/?$", view.as_view(), name=name)


urlpatterns = [
    route("status", views.StatusView, "invites-status"),
    route("users", views.UserListView, "invites-users"),
    route("users/<pk>", views.UserDetailView, "invites-user"),
    route("users/<pk>/extend", views.UserExtendView, "invites-user-extend"),
    route("invitations", views.InvitationListView, "invites-invitations"),
    route("invitations/<pk>", views.InvitationDetailView, "invites-invitation"),
    route("libraries", views.LibraryListView, "invites-libraries"),
    route("servers", views.ServerListView, "invites-servers"),
    route("servers/<pk>", views.ServerDetailView, "invites-server"),
    route("servers/<pk>/scan", views.ServerScanView, "invites-server-scan"),
    route("api-keys", views.APIKeyListView, "invites-api-keys"),
    route("api-keys/<pk>", views.APIKeyDetailView, "invites-api-key"),
    re_path(r"^.*$", not_found_view(views.InvitesAPIView)),
]
