"""Wizarr's request and answer shapes (contract: wizarr-api.md)."""
from __future__ import annotations

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import selectors

MAX_ID = 2 ** 63 - 1
EXPIRES_CHOICES = (1, 7, 30)
MAX_DURATION_DAYS = 36500
URL_PROBLEMS = {"scheme": "Must be an http:// or https:// URL.", "host": "The URL has no host.",
                "port": "The URL's port is not valid."}


@extend_schema_field(OpenApiTypes.STR)
class DurationField(serializers.Field):
    """Days of account life as a string or an integer ("30", 30), or "unlimited"; None means unlimited."""

    default_error_messages = {"invalid": 'Must be a number of days (1 to 36500) or "unlimited".'}

    def to_internal_value(self, data):
        if data is None:
            return None
        if isinstance(data, bool):
            self.fail("invalid")
        text = str(data).strip().lower()
        if text == "unlimited":
            return None
        if not re.fullmatch(r"\d{1,6}", text) or not 1 <= int(text) <= MAX_DURATION_DAYS:
            self.fail("invalid")
        return int(text)

    def to_representation(self, value):
        return "unlimited" if value is None else str(value)


def _ids():
    return serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False,
                                 allow_null=True, max_length=1000)


class InvitationCreateSerializer(serializers.Serializer):
    expires_in_days = serializers.IntegerField(required=False, allow_null=True, default=None)
    duration = DurationField(required=False, default=None, allow_null=True)
    unlimited = serializers.BooleanField(required=False, default=True)
    max_uses = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=100000)
    library_ids = _ids()
    server_ids = _ids()
    allow_downloads = serializers.BooleanField(required=False, default=False)
    allow_live_tv = serializers.BooleanField(required=False, default=False)
    allow_mobile_uploads = serializers.BooleanField(required=False, default=False)

    def validate_expires_in_days(self, value):
        if value is not None and value not in EXPIRES_CHOICES:
            raise serializers.ValidationError("Must be 1, 7, 30 or null (never).")
        return value

    def validate(self, attrs):
        if attrs.get("max_uses") is not None and not attrs.get("unlimited"):
            raise serializers.ValidationError("max_uses needs a reusable invitation (unlimited: true).")
        return attrs


class ExtendSerializer(serializers.Serializer):
    days = serializers.IntegerField(required=False, default=30, min_value=1, max_value=MAX_DURATION_DAYS)


class ServerCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    server_type = serializers.ChoiceField(choices=["plex", "jellyfin", "emby"])
    server_url = serializers.CharField(max_length=500, required=False)
    api_key = serializers.CharField(max_length=500, trim_whitespace=True, required=False)
    service_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID,
                                          help_text="Use this integrations Service (e.g. one synced from Traefik) for "
                                                    "URL and key instead of server_url / api_key.")
    external_url = serializers.CharField(max_length=500, required=False, allow_blank=True, allow_null=True)
    allow_downloads = serializers.BooleanField(required=False, default=False)
    allow_live_tv = serializers.BooleanField(required=False, default=False)
    allow_mobile_uploads = serializers.BooleanField(required=False, default=False)

    def _url(self, value, required=True):
        from homelab.validators import http_url_problem

        value = (value or "").strip()
        if not value and not required:
            return ""
        problem = http_url_problem(value)
        if problem:
            raise serializers.ValidationError(URL_PROBLEMS[problem])
        return value.rstrip("/")

    def validate_server_url(self, value):
        return self._url(value)

    def validate_external_url(self, value):
        return self._url(value, required=False)

    def validate(self, attrs):
        from integrations.models import Service

        service_id = attrs.pop("service_id", None)
        if service_id is not None:
            service = Service.objects.filter(pk=service_id).first()
            if service is None:
                raise serializers.ValidationError({"service_id": f"No service with id {service_id}."})
            attrs["service"] = service
        else:
            missing = [name for name in ("server_url", "api_key") if not attrs.get(name)]
            if missing:
                raise serializers.ValidationError({name: "This field is required." for name in missing})
        return attrs


# --- answers -----------------------------------------------------------------------------------

class ServerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    server_type = serializers.CharField()
    server_url = serializers.CharField()
    external_url = serializers.CharField(allow_null=True)
    verified = serializers.BooleanField()
    allow_downloads = serializers.BooleanField()
    allow_live_tv = serializers.BooleanField()
    allow_mobile_uploads = serializers.BooleanField()
    created_at = serializers.DateTimeField()

    def to_representation(self, server):
        data = super().to_representation(server)
        data["external_url"] = server.external_url or None
        return data


class LibrarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    server_id = serializers.IntegerField()


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.CharField(allow_null=True)
    server = serializers.CharField(source="server.name")
    server_type = serializers.CharField(source="server.server_type")
    expires = serializers.DateTimeField(allow_null=True)
    created = serializers.DateTimeField()

    def to_representation(self, user):
        data = super().to_representation(user)
        data["email"] = user.email or None
        return data


class _DisplayFields(serializers.Serializer):
    display_name = serializers.CharField()
    server_names = serializers.ListField(child=serializers.CharField())
    uses_global_setting = serializers.BooleanField()


class InvitationSerializer(_DisplayFields):
    id = serializers.IntegerField()
    code = serializers.CharField()
    status = serializers.ChoiceField(choices=["pending", "used", "expired"])
    created = serializers.DateTimeField()
    expires = serializers.DateTimeField(allow_null=True)
    used_at = serializers.DateTimeField(allow_null=True)
    used_by = serializers.CharField(allow_null=True)
    duration = serializers.CharField()
    unlimited = serializers.BooleanField()
    specific_libraries = serializers.ListField(child=serializers.IntegerField(), allow_null=True)
    max_uses = serializers.IntegerField(allow_null=True)
    used_count = serializers.IntegerField()
    used_by_all = serializers.ListField(child=serializers.CharField())

    def to_representation(self, inv):
        uses = list(inv.uses.all())
        last = uses[-1] if uses else None
        libraries = sorted(lib.pk for lib in inv.libraries.all())
        return {
            "id": inv.pk, "code": inv.code, "status": inv.status,
            "created": serializers.DateTimeField().to_representation(inv.created),
            "expires": serializers.DateTimeField().to_representation(inv.expires) if inv.expires else None,
            "used_at": serializers.DateTimeField().to_representation(last.used_at) if last else None,
            "used_by": last.username if last else None,
            "duration": inv.duration_label, "unlimited": inv.unlimited,
            "specific_libraries": libraries or None,
            **selectors.display(inv),
            "max_uses": inv.limit, "used_count": inv.used_count,
            "used_by_all": [u.username for u in uses],
        }


class CreatedInvitationSerializer(_DisplayFields):
    id = serializers.IntegerField()
    code = serializers.CharField()
    expires = serializers.DateTimeField(allow_null=True)
    duration = serializers.CharField()
    unlimited = serializers.BooleanField()

    def to_representation(self, inv):
        return {
            "id": inv.pk, "code": inv.code,
            "expires": serializers.DateTimeField().to_representation(inv.expires) if inv.expires else None,
            "duration": inv.duration_label, "unlimited": inv.unlimited, **selectors.display(inv),
        }


class APIKeySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    created_by = serializers.CharField(source="created_by.username")
