"""Shapes of the IPTV backend's bodies, for validation docs and the OpenAPI schema."""
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "integer"}]})
class LocPart(serializers.Field):
    """A step of FastAPI's ``loc``: a place name ("body", "query", a field) or a position (``["body", 0]``)."""

    def to_representation(self, value):
        return value


class Detail(serializers.Serializer):
    detail = serializers.CharField()


class ValidationItem(serializers.Serializer):
    loc = serializers.ListField(child=LocPart())
    msg = serializers.CharField()
    type = serializers.CharField()


class ValidationErrorBody(serializers.Serializer):
    detail = ValidationItem(many=True)


class NowPlaying(serializers.Serializer):
    title = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class ChannelItem(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    group = serializers.CharField()
    category = serializers.ChoiceField(["tv", "movies", "series", "other"])
    logo = serializers.CharField()
    tvg_id = serializers.CharField()
    tvg_name = serializers.CharField()
    stream_url = serializers.CharField()
    stream_type = serializers.CharField(help_text="live, movie, series, or empty when the URL does not say")
    provider = serializers.CharField(help_text="The provider's name")
    catchup_days = serializers.IntegerField(allow_null=True)
    epg_channel_id = serializers.CharField(allow_null=True, help_text="tvg-id of the matched guide channel")
    epg_match = serializers.ChoiceField(["tvg_id", "name"], allow_null=True)
    now = NowPlaying(allow_null=True)


class ChannelPage(serializers.Serializer):
    items = ChannelItem(many=True)
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    total = serializers.IntegerField()
    pages = serializers.IntegerField()


class LoginRequest(serializers.Serializer):
    host = serializers.CharField(help_text="The panel's URL, e.g. http://provider.example:8080")
    username = serializers.CharField()
    password = serializers.CharField(write_only=True)


class LoginResponse(serializers.Serializer):
    message = serializers.CharField()
    host = serializers.CharField()
    username = serializers.CharField()
    provider = serializers.CharField()
    refresh = serializers.ChoiceField(["started", "running"])


class RefreshResponse(serializers.Serializer):
    message = serializers.CharField()
    refreshing = serializers.BooleanField()
    started = serializers.BooleanField(help_text="false: a refresh was already running; nothing new started")


class StatusResponse(serializers.Serializer):
    refreshing = serializers.BooleanField()
    progress = serializers.IntegerField()
    last_refresh = serializers.DateTimeField(allow_null=True)
    channel_count = serializers.IntegerField()
    stale = serializers.BooleanField()
    last_error = serializers.CharField(allow_null=True)
    host = serializers.CharField(allow_null=True, help_text="Without credentials")
    status = serializers.ChoiceField(["idle", "fetching", "parsing", "success", "error"])
    message = serializers.CharField()


class CategoryCounts(serializers.Serializer):
    tv = serializers.IntegerField()
    movies = serializers.IntegerField()
    series = serializers.IntegerField()
    other = serializers.IntegerField()


class StatsResponse(serializers.Serializer):
    total = serializers.IntegerField()
    categories = CategoryCounts()


class Group(serializers.Serializer):
    name = serializers.CharField()
    category = serializers.CharField()
    count = serializers.IntegerField()


class GroupsResponse(serializers.Serializer):
    groups = Group(many=True)
    total = serializers.IntegerField()


class HealthResponse(serializers.Serializer):
    status = serializers.CharField()
