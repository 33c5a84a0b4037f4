"""Shapes of the schedules, webhooks and path-check endpoints (the contract's field names)."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from ..schedules import MAX_INTERVAL_MINUTES
from .serializers import LIBRARY_ID


def _library_id(value: str) -> str:
    value = value.strip()
    if not LIBRARY_ID.match(value):
        raise serializers.ValidationError("A Plex library id (its section key, e.g. \"1\").")
    return value


class StrictBoolean(serializers.BooleanField):
    """true / false only (a "maybe" or 2 is refused rather than read as something)."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            raise serializers.ValidationError("Must be true or false.")
        return data


class ScheduleInput(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    library_id = serializers.CharField(max_length=50)
    library_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    schedule_type = serializers.ChoiceField(["cron", "interval"])
    cron_expression = serializers.CharField(max_length=200, required=False,
                                            help_text="Five fields (minute hour day-of-month month day-of-week), "
                                                      "in UTC: \"0 2 * * *\".")
    interval_minutes = serializers.IntegerField(required=False, min_value=1, max_value=MAX_INTERVAL_MINUTES)
    enabled = StrictBoolean(required=False, default=True)

    def validate_library_id(self, value):
        return _library_id(value)

    def validate_name(self, value):
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        return value.strip()


class ScheduleUpdate(ScheduleInput):
    """Any subset of the fields."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            f.required = False
        self.fields["enabled"].default = serializers.empty


class ScheduleOut(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    library_id = serializers.CharField()
    schedule_type = serializers.ChoiceField(["cron", "interval"])
    cron_expression = serializers.CharField(required=False, help_text="Cron schedules only.")
    interval_minutes = serializers.IntegerField(required=False, help_text="Interval schedules only.")
    enabled = serializers.BooleanField()
    next_run = serializers.DateTimeField(allow_null=True, help_text="UTC; null when disabled.")


class Schedules(serializers.Serializer):
    schedules = ScheduleOut(many=True)


class ScheduleCreated(serializers.Serializer):
    id = serializers.CharField()
    success = serializers.BooleanField()


class ScheduleRun(serializers.Serializer):
    success = serializers.BooleanField()
    job_id = serializers.CharField(help_text="The new job, or the one still running on the library.")


class PlexWebhookInput(serializers.Serializer):
    payload = serializers.CharField(help_text="Plex's webhook JSON (event library.new).")


class WebhookAccepted(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    events = serializers.ListField(child=serializers.IntegerField(), help_text="Webhook rows created (admin).")


class PathCheckItem(serializers.Serializer):
    title = serializers.CharField()
    plex_path = serializers.CharField()
    local_path = serializers.CharField()
    exists = serializers.BooleanField()


class MappingPair(serializers.Serializer):
    plex = serializers.CharField()
    local = serializers.CharField()


class PathCheck(serializers.Serializer):
    library_id = serializers.CharField()
    library_name = serializers.CharField()
    mapping = MappingPair(many=True)
    items = PathCheckItem(many=True)
    message = serializers.CharField()


for _name, _obj in list(globals().items()):
    if isinstance(_obj, type) and issubclass(_obj, serializers.Serializer) and _obj.__module__ == __name__:
        extend_schema_serializer(component_name=f"Previews{_name}")(_obj)
