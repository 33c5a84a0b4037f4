"""Wizarr's routes, without a trailing slash as Wizarr has them; the same route with one is accepted too (left out
of the schema). Ids are ``<int64:pk>``: a number past int64 falls through to the catch-all, a 404 in Wizarr's
dialect, as does anything else (the catch-all matches newlines too)."""
from django.urls import path, re_path

from homelab import converters  # noqa: F401 - registers <int64:...>
from homelab.api.views import not_found_view

from . import views


def route(pattern: str, view, name: str):
    slash = type(f"{view.__name__}Slash", (view,), {"schema": None})
    return [path(pattern, view.as_view(), name=name), path(pattern + "/", slash.as_view())]


urlpatterns = [
    *route("status", views.StatusView, "invites-status"),
    *route("users", views.UserListView, "invites-users"),
    *route("users/<int64:pk>", views.UserDetailView, "invites-user"),
    *route("users/<int64:pk>/extend", views.UserExtendView, "invites-user-extend"),
    *route("invitations", views.InvitationListView, "invites-invitations"),
    *route("invitations/<int64:pk>", views.InvitationDetailView, "invites-invitation"),
    *route("libraries", views.LibraryListView, "invites-libraries"),
    *route("servers", views.ServerListView, "invites-servers"),
    *route("servers/<int64:pk>", views.ServerDetailView, "invites-server"),
    *route("servers/<int64:pk>/scan", views.ServerScanView, "invites-server-scan"),
    *route("api-keys", views.APIKeyListView, "invites-api-keys"),
    *route("api-keys/<int64:pk>", views.APIKeyDetailView, "invites-api-key"),
    re_path(r"^[\s\S]*$", not_found_view(views.InvitesAPIView)),
]
