from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from ..models import DEFAULT_OUTPUT_FILENAME, normalize_url, validate_remote_url


class RemoteURLField(serializers.CharField):
    """A Dispatcharr base URL: http(s), a host, a port in 1..65535, no credentials; trailing slashes dropped."""

    def to_internal_value(self, data):
        value = normalize_url(super().to_internal_value(data))
        try:
            validate_remote_url(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages[0]) from None
        return value


class ConnectionInput(serializers.Serializer):
    url = RemoteURLField(max_length=500)
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, write_only=True,
                                     help_text="Optional when a link with this URL and username is stored: "
                                               "its password is used.")
    verify_tls = serializers.BooleanField(required=False, default=True)


class DiscoverInput(ConnectionInput):
    filename = serializers.CharField(max_length=500, required=False, default=DEFAULT_OUTPUT_FILENAME,
                                     help_text="The output file name the remote EPG source URL ends in (or a full URL).")


class EPGSourceSummary(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)
    source_type = serializers.CharField(allow_null=True)
    url = serializers.CharField(allow_null=True)
    is_active = serializers.BooleanField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    last_refresh = serializers.CharField(allow_null=True)
    updated_at = serializers.CharField(allow_null=True)


class TestOutput(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    epg_sources = EPGSourceSummary(many=True)


class DiscoverOutput(serializers.Serializer):
    success = serializers.BooleanField()
    epg_id = serializers.IntegerField(allow_null=True)
    epg_name = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class SettingsInput(serializers.Serializer):
    """Every field optional: what is left out keeps its stored value (or the default for a first save)."""

    enabled = serializers.BooleanField(required=False)
    url = RemoteURLField(max_length=500, required=False)
    username = serializers.CharField(max_length=150, required=False)
    password = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, write_only=True,
                                     help_text="Write-only; blank or left out keeps the stored password.")
    verify_tls = serializers.BooleanField(required=False)
    output_filename = serializers.CharField(max_length=255, required=False)
    epg_id = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**31 - 1)
    service_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1,
        help_text="Beyond Teamarr's contract: an integrations Service to use (e.g. one synced from Traefik) "
                  "instead of typing its URL; username and password given are written to it.")


class SettingsOutput(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    enabled = serializers.BooleanField()
    url = serializers.CharField()
    username = serializers.CharField()
    password_set = serializers.BooleanField()
    verify_tls = serializers.BooleanField()
    output_filename = serializers.CharField()
    epg_id = serializers.IntegerField(allow_null=True)
    epg_name = serializers.CharField()
    last_sync = serializers.DateTimeField(allow_null=True)
    last_result = serializers.CharField()
    last_message = serializers.CharField()
    auth_failures = serializers.IntegerField()


class DetailError(serializers.Serializer):
    detail = serializers.CharField()
