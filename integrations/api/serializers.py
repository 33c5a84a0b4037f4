"""Input and output serializers of the services API. Credentials are write-only: never in an answer."""

from rest_framework import serializers

from homelab.validators import http_url_problem
from integrations import auth
from integrations.models import AUTH_TYPE_CHOICES, Service

OUTPUT_FIELDS = [
    "id", "name", "slug", "url", "api_url", "source", "traefik_router", "traefik_service", "entry_points",
    "service_type", "enabled", "seen", "last_seen", "api_detected", "api_base_path", "api_auth_type",
    "api_detection_method", "api_detected_at", "api_username", "has_credentials", "has_api_key", "has_password",
    "api_key_header", "api_key_query", "api_auth_endpoint", "verify_ssl", "created_at", "updated_at",
]


class ServiceOutputSerializer(serializers.ModelSerializer):
    has_credentials = serializers.BooleanField(read_only=True)
    has_api_key = serializers.SerializerMethodField()
    has_password = serializers.SerializerMethodField()

    class Meta:
        model = Service
        fields = OUTPUT_FIELDS
        read_only_fields = OUTPUT_FIELDS

    def to_representation(self, obj):
        data = super().to_representation(obj)
        request = self.context.get("request")
        staff = request is not None and request.user.is_staff
        mode = auth.MODES.get(obj.api_auth_type or "")
        if data.get("api_username") and not staff and mode is not None and mode.username_is_secret:
            data["api_username"] = "****"  # an Xtream panel's username is half its login
        return data

    def get_has_api_key(self, obj) -> bool:
        return bool(obj.api_key)

    def get_has_password(self, obj) -> bool:
        return bool(obj.api_password)


def is_http_url(value: str) -> bool:
    """http(s), a host, and a port in 1..65535."""
    return http_url_problem(value) is None


class ServiceInputSerializer(serializers.ModelSerializer):
    """Create (manual services) and update. api_password and api_key are write-only; an empty string clears."""

    api_password = serializers.CharField(write_only=True, required=False, allow_blank=True, trim_whitespace=False)
    api_key = serializers.CharField(write_only=True, required=False, allow_blank=True)
    api_auth_type = serializers.ChoiceField(choices=AUTH_TYPE_CHOICES, required=False, allow_blank=True)

    class Meta:
        model = Service
        fields = ["name", "url", "api_url", "service_type", "enabled", "api_username", "api_password", "api_key",
                  "api_key_header", "api_key_query", "api_auth_endpoint", "api_auth_type", "verify_ssl"]
        extra_kwargs = {"name": {"required": True}}

    def validate(self, attrs):
        for field in ("url", "api_url"):
            value = attrs.get(field)
            if value and not is_http_url(value):
                raise serializers.ValidationError({field: "Must be an http:// or https:// URL."})
        for field in ("api_auth_endpoint",):
            value = attrs.get(field)
            if value and not value.startswith("/"):
                raise serializers.ValidationError({field: "Must be a path starting with /."})
        return attrs


class ServiceProxyOutputSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    data = serializers.JSONField()


class ServiceErrorSerializer(serializers.Serializer):
    success = serializers.BooleanField(default=False)
    error = serializers.CharField()


class ServiceDetectOutputSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    detected = serializers.BooleanField()
    method = serializers.CharField()
    base_path = serializers.CharField(allow_blank=True)
    auth_type = serializers.CharField(allow_blank=True)
    service_type = serializers.CharField(allow_blank=True)
    evidence = serializers.JSONField()


class ServiceTestOutputSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    status = serializers.IntegerField(allow_null=True)
    path = serializers.CharField()
    elapsed_ms = serializers.IntegerField()
    auth_type = serializers.CharField(required=False)
    error = serializers.CharField(required=False)


class ServiceDocsOutputSerializer(serializers.Serializer):
    service = serializers.CharField()
    api_url = serializers.CharField()
    detected = serializers.BooleanField()
    base_path = serializers.CharField(allow_blank=True)
    auth_type = serializers.CharField(allow_blank=True)
    detection_method = serializers.CharField(allow_blank=True)
    detected_at = serializers.DateTimeField(allow_null=True)
    probes_answered = serializers.ListField(child=serializers.JSONField())
    proxy_url = serializers.CharField()
    examples = serializers.DictField(child=serializers.CharField())
