"""Wizarr's API (wizarr-api.md), one view per operation. Errors are raised; the dialect gives ``{"error": ...}``."""
from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response

from homelab import errors
from homelab.api.views import HomelabAPIView
from homelab.models import APIKey

from .. import selectors, services, tasks
from ..models import Invitation, MediaServer, RemoteUser
from .serializers import (MAX_ID, APIKeySerializer, CreatedInvitationSerializer, ExtendSerializer, InvitationCreateSerializer,
                          InvitationSerializer, LibrarySerializer, ServerCreateSerializer, ServerSerializer,
                          UserSerializer)

ERROR = inline_serializer("InvitesError", {"error": serializers.CharField()})
MESSAGE = inline_serializer("InvitesMessage", {"message": serializers.CharField()})
AUTH = {401: OpenApiResponse(ERROR, description='"API key required" or "Invalid API key"')}
NOT_FOUND = {404: OpenApiResponse(ERROR, description="Unknown id")}
BAD = {400: OpenApiResponse(ERROR, description="Invalid request")}


class InvitesAPIView(HomelabAPIView):
    """Wizarr: ``{"error": ...}`` bodies."""

    error_dialect = errors.INVITES


class Refused(exceptions.APIException):
    status_code = 400

    def __init__(self, message: str, status_code: int = 400):
        super().__init__(message)
        self.status_code = status_code


def _raise(exc: services.InvitesError):
    raise Refused(exc.message, exc.status) from None


def _get(model, pk, message, queryset=None):
    pk = int(pk)
    queryset = selectors_for(model) if queryset is None else queryset
    obj = queryset.filter(pk=pk).first() if pk <= MAX_ID else None
    if obj is None:
        raise exceptions.NotFound(message)
    return obj


def selectors_for(model):
    return {RemoteUser: selectors.users(), Invitation: selectors.invitations(), MediaServer: selectors.servers(),
            APIKey: APIKey.objects.active().select_related("created_by")}[model]


def _validated(serializer_class, request):
    if request.data is not None and not isinstance(request.data, dict):
        raise exceptions.ValidationError("The body must be a JSON object.")
    serializer = serializer_class(data=request.data or {})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class StatusView(InvitesAPIView):
    @extend_schema(operation_id="invites_status", responses={200: inline_serializer("InvitesStatus", {
        "users": serializers.IntegerField(), "invites": serializers.IntegerField(),
        "pending": serializers.IntegerField(), "expired": serializers.IntegerField()}), **AUTH})
    def get(self, request):
        return Response(selectors.status())


class UserListView(InvitesAPIView):
    @extend_schema(operation_id="invites_users_list", responses={200: inline_serializer("InvitesUsers", {
        "users": UserSerializer(many=True), "count": serializers.IntegerField()}), **AUTH})
    def get(self, request):
        services.sync_all_users()  # as Wizarr does; a failed or empty answer changes nothing
        users = list(selectors.users())
        return Response({"users": UserSerializer(users, many=True).data, "count": len(users)})


class UserDetailView(InvitesAPIView):
    @extend_schema(operation_id="invites_users_delete",
                   responses={200: MESSAGE, 502: OpenApiResponse(ERROR, description="The server refused"),
                              **AUTH, **NOT_FOUND})
    def delete(self, request, pk):
        user = _get(RemoteUser, pk, "User not found")
        name = user.username
        try:
            services.delete_user(user, actor=request.user.get_username())
        except services.InvitesError as exc:
            _raise(exc)
        return Response({"message": f"User {name} deleted successfully"})


class UserExtendView(InvitesAPIView):
    @extend_schema(operation_id="invites_users_extend", request=ExtendSerializer,
                   responses={200: inline_serializer("InvitesExtended", {
                       "message": serializers.CharField(), "new_expiry": serializers.DateTimeField()}),
                       **BAD, **AUTH, **NOT_FOUND,
                       502: OpenApiResponse(ERROR, description="The server refused to enable the account again")})
    def post(self, request, pk):
        user = _get(RemoteUser, pk, "User not found")
        days = _validated(ExtendSerializer, request)["days"]
        try:
            with transaction.atomic():
                services.extend_user(user, days=days, actor=request.user.get_username())
                tasks.queue_expiry(user)
        except services.InvitesError as exc:
            _raise(exc)
        return Response({"message": f"User {user.username} expiry extended by {days} days",
                         "new_expiry": serializers.DateTimeField().to_representation(user.expires)})


class InvitationListView(InvitesAPIView):
    @extend_schema(operation_id="invites_invitations_list", responses={200: inline_serializer("InvitesInvitations", {
        "invitations": InvitationSerializer(many=True), "count": serializers.IntegerField()}), **AUTH})
    def get(self, request):
        rows = list(selectors.invitations())
        return Response({"invitations": InvitationSerializer(rows, many=True).data, "count": len(rows)})

    @extend_schema(operation_id="invites_invitations_create", request=InvitationCreateSerializer,
                   responses={201: inline_serializer("InvitesInvitationCreated", {
                       "message": serializers.CharField(), "invitation": CreatedInvitationSerializer()}),
                       **BAD, **AUTH})
    def post(self, request):
        data = _validated(InvitationCreateSerializer, request)
        try:
            invitation = services.create_invitation(**data)
        except services.InvitesError as exc:
            _raise(exc)
        invitation = selectors.invitations().get(pk=invitation.pk)
        return Response({"message": "Invitation created successfully",
                         "invitation": CreatedInvitationSerializer(invitation).data}, status=status.HTTP_201_CREATED)


class InvitationDetailView(InvitesAPIView):
    @extend_schema(operation_id="invites_invitations_delete", responses={200: MESSAGE, **AUTH, **NOT_FOUND})
    def delete(self, request, pk):
        invitation = _get(Invitation, pk, "Invitation not found")
        code = invitation.code
        invitation.delete()
        return Response({"message": f"Invitation {code} deleted successfully"})


class LibraryListView(InvitesAPIView):
    @extend_schema(operation_id="invites_libraries_list", responses={200: inline_serializer("InvitesLibraries", {
        "libraries": LibrarySerializer(many=True), "count": serializers.IntegerField()}), **AUTH})
    def get(self, request):
        rows = list(selectors.libraries())
        return Response({"libraries": LibrarySerializer(rows, many=True).data, "count": len(rows)})


class ServerListView(InvitesAPIView):
    def get_permissions(self):
        return [*super().get_permissions(), *([IsAdminUser()] if self.request.method == "POST" else [])]

    @extend_schema(operation_id="invites_servers_list", responses={200: inline_serializer("InvitesServers", {
        "servers": ServerSerializer(many=True), "count": serializers.IntegerField()}), **AUTH})
    def get(self, request):
        rows = list(selectors.servers())
        return Response({"servers": ServerSerializer(rows, many=True).data, "count": len(rows)})

    @extend_schema(operation_id="invites_servers_create", request=ServerCreateSerializer,
                   responses={201: inline_serializer("InvitesServerCreated", {"server": ServerSerializer()}),
                              **BAD, **AUTH, 403: OpenApiResponse(ERROR, description="Staff only")})
    def post(self, request):
        data = _validated(ServerCreateSerializer, request)
        try:
            server = services.create_server(**data)
        except services.InvitesError as exc:
            _raise(exc)
        return Response({"server": ServerSerializer(server).data}, status=status.HTTP_201_CREATED)


class ServerDetailView(InvitesAPIView):
    permission_classes = [IsAdminUser]

    @extend_schema(operation_id="invites_servers_delete",
                   responses={200: MESSAGE, **AUTH, 403: OpenApiResponse(ERROR), **NOT_FOUND})
    def delete(self, request, pk):
        server = _get(MediaServer, pk, "Server not found")
        name = server.name
        services.delete_server(server)
        return Response({"message": f"Server {name} deleted successfully"})


class ServerScanView(InvitesAPIView):
    permission_classes = [IsAdminUser]

    @extend_schema(operation_id="invites_servers_scan", request=None, responses={200: inline_serializer(
        "InvitesScan", {"message": serializers.CharField(), "libraries": serializers.IntegerField(allow_null=True),
                        "users": serializers.IntegerField(allow_null=True)}),
        **AUTH, 403: OpenApiResponse(ERROR), **NOT_FOUND})
    def post(self, request, pk):
        server = _get(MediaServer, pk, "Server not found")
        result = services.scan_server(server)
        return Response({"message": result.message, "libraries": result.libraries, "users": result.users})


def _visible_keys(request):
    """Staff see every active key; anyone else only their own (they may not list or revoke the admin's)."""
    keys = APIKey.objects.active().select_related("created_by")
    return keys if request.user.is_staff else keys.filter(created_by=request.user)


class APIKeyListView(InvitesAPIView):
    @extend_schema(operation_id="invites_api_keys_list", responses={200: inline_serializer("InvitesAPIKeys", {
        "api_keys": APIKeySerializer(many=True), "count": serializers.IntegerField()}), **AUTH})
    def get(self, request):
        rows = list(_visible_keys(request).order_by("id"))
        return Response({"api_keys": APIKeySerializer(rows, many=True).data, "count": len(rows)})


class APIKeyDetailView(InvitesAPIView):
    @extend_schema(operation_id="invites_api_keys_delete", responses={200: MESSAGE, **BAD, **AUTH, **NOT_FOUND})
    def delete(self, request, pk):
        key = _get(APIKey, pk, "API key not found", _visible_keys(request))
        if isinstance(request.auth, APIKey) and request.auth.pk == key.pk:
            raise Refused("Cannot delete the API key currently being used")
        key.revoke()
        return Response({"message": f"API key '{key.name}' deleted successfully"})

