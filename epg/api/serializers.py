from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import serializers

from homelab.http import mask_url

from ..models import EPGSource, resolve_data_path, validate_guide_url


class _FormBooleanField(serializers.BooleanField):
    """A boolean that a multipart/form request may leave out: it then keeps its value, or the model default
    (DRF otherwise reads a missing form field as False, so an uploaded guide would be created inactive)."""

    default_empty_html = serializers.empty


class EPGSourceSerializer(serializers.ModelSerializer):
    """Dispatcharr's EPG source object. ``updated_at`` (= ``last_refresh``) is the time of the last successful
    refresh; ``status`` in (success, error) with a changed ``updated_at`` tells a poller its refresh ended."""

    last_refresh = serializers.DateTimeField(source="updated_at", read_only=True, allow_null=True)
    file = serializers.FileField(write_only=True, required=False, allow_null=True)
    url = serializers.CharField(max_length=2000, required=False, allow_blank=True, allow_null=True)
    is_active = _FormBooleanField(required=False)

    class Meta:
        model = EPGSource
        fields = ["id", "name", "source_type", "url", "file_path", "file", "is_active", "refresh_interval",
                  "priority", "status", "progress", "last_message", "created_at", "updated_at", "last_refresh",
                  "channel_count", "programme_count"]
        read_only_fields = ["status", "progress", "last_message", "created_at", "updated_at", "channel_count",
                            "programme_count"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if "url" in data and not (request is not None and request.user and request.user.is_staff):
            data["url"] = mask_url(data["url"] or "")  # credentials in a URL are for staff only
        return data

    def validate_url(self, value):
        value = value or ""
        try:
            validate_guide_url(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages[0]) from None
        return value

    def validate_file_path(self, value):
        if value:
            try:
                resolve_data_path(value)
            except ValueError as exc:
                raise serializers.ValidationError(str(exc)) from None
        return value

    def validate(self, attrs):
        get = lambda k: attrs[k] if k in attrs else getattr(self.instance, k, None)  # noqa: E731
        source_type = get("source_type") or EPGSource.SourceType.URL
        if source_type == EPGSource.SourceType.URL and not get("url"):
            raise serializers.ValidationError({"url": ["A URL source needs a URL."]})
        if source_type == EPGSource.SourceType.FILE and not (get("file") or get("file_path")):
            raise serializers.ValidationError({"file_path": ["A file source needs an uploaded file or a file path."]})
        if "file" in attrs and attrs["file"] is None:
            attrs["file"] = ""
        return attrs

    def update(self, instance, validated_data):
        for key, value in validated_data.items():
            setattr(instance, key, value)
        instance.save_settings(validated_data)
        return instance

    def save(self, **kwargs):
        try:
            return super().save(**kwargs)
        except IntegrityError:
            raise serializers.ValidationError({"name": ["EPG source with this name already exists."]}) from None


class ImportRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=1)


class EPGDataSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tvg_id = serializers.CharField()
    name = serializers.CharField()
    icon_url = serializers.CharField()
    epg_source = serializers.IntegerField()


class GridProgrammeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    start_time = serializers.DateTimeField()
    end_time = serializers.DateTimeField()
    title = serializers.CharField()
    sub_title = serializers.CharField()
    description = serializers.CharField()
    tvg_id = serializers.CharField()
    season = serializers.IntegerField(allow_null=True)
    episode = serializers.IntegerField(allow_null=True)
    is_new = serializers.BooleanField()
    is_live = serializers.BooleanField()
    is_premiere = serializers.BooleanField()
    is_finale = serializers.BooleanField()


class GridSerializer(serializers.Serializer):
    data = GridProgrammeSerializer(many=True)
