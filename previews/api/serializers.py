"""Input and output shapes of the plex-generate-previews API (the contract's field names)."""
from __future__ import annotations

import ntpath
import posixpath
import re

from rest_framework import serializers

from homelab.validators import http_url_problem

from ..models import PreviewSettings
from ..paths import MappingError, mapping_pairs, split_mapping

URL_MESSAGES = {"port": "Enter a valid URL with a port between 1 and 65535.",
                "scheme": "The URL must start with http:// or https://.",
                "host": "The URL must name a host."}
LIBRARY_ID = re.compile(r"^[A-Za-z0-9_-]{1,50}$")


def _local_absolute(value: str) -> bool:
    return posixpath.isabs(value)


def _any_absolute(value: str) -> bool:
    """Plex may run on Windows: ``C:\\Media``, ``\\\\nas\\share`` or a POSIX path."""
    return posixpath.isabs(value) or bool(re.match(r"^[A-Za-z]:[\\/]", value)) or ntpath.isabs(value) \
        and value.startswith("\\\\")


class PathField(serializers.CharField):
    """An absolute path, or blank."""

    def __init__(self, *, windows: bool = False, **kwargs):
        self.windows = windows
        super().__init__(allow_blank=True, required=False, max_length=1000, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if "\x00" in value:
            raise serializers.ValidationError("The path contains a NUL character.")
        if value and not (_any_absolute(value) if self.windows else _local_absolute(value)):
            raise serializers.ValidationError(f"Must be an absolute path (starting with /), not {value!r}.")
        return value


class MappingField(serializers.CharField):
    """One absolute prefix, or several separated by ';'."""

    def __init__(self, *, windows: bool = False, **kwargs):
        self.windows = windows
        super().__init__(allow_blank=True, required=False, max_length=10000, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        check = _any_absolute if self.windows else _local_absolute
        for part in split_mapping(value):
            if "\x00" in part or not check(part):
                raise serializers.ValidationError(
                    f"Each path must be absolute (several separated by ';'); {part!r} is not.")
        return value


class PlexURLField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 500)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data).strip()
        if value:
            problem = http_url_problem(value)
            if problem:
                raise serializers.ValidationError(URL_MESSAGES[problem])
            if "@" in value.split("//", 1)[-1].split("/", 1)[0]:
                raise serializers.ValidationError("Put the token in plex_token, not in the URL.")
            if "?" in value or "#" in value:  # ?X-Plex-Token=... would be shown by /api/system/config
                raise serializers.ValidationError("The URL must not carry a query string or fragment: put the "
                                                  "token in plex_token.")
        return value.rstrip("/")


class PlexTokenField(serializers.CharField):
    """A Plex token goes out in a header: printable ASCII, no spaces."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 500)
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not all("!" <= ch <= "~" for ch in value):
            raise serializers.ValidationError("A Plex token is printable ASCII without spaces.")
        return value


class SettingsInput(serializers.Serializer):
    """Every field optional; the request is validated as a whole and saved only when every field is valid."""

    plex_url = PlexURLField(required=False, allow_blank=True)
    plex_token = PlexTokenField(help_text='"****" (as GET shows it) keeps the stored token.')
    plex_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    plex_config_folder = PathField()
    selected_libraries = serializers.ListField(child=serializers.CharField(max_length=50), required=False,
                                               max_length=1000)
    media_path = PathField()
    plex_videos_path_mapping = MappingField(windows=True)
    plex_local_videos_path_mapping = MappingField()
    gpu_threads = serializers.IntegerField(required=False, min_value=0, max_value=64)
    cpu_threads = serializers.IntegerField(required=False, min_value=0, max_value=64)
    thumbnail_interval = serializers.IntegerField(required=False, min_value=1, max_value=60)
    thumbnail_quality = serializers.IntegerField(required=False, min_value=1, max_value=10)

    def validate(self, attrs):
        current = PreviewSettings.load()
        plex = attrs.get("plex_videos_path_mapping", current.plex_videos_path_mapping)
        local = attrs.get("plex_local_videos_path_mapping", current.plex_local_videos_path_mapping)
        try:
            mapping_pairs(plex, local)
        except MappingError as exc:
            field = ("plex_local_videos_path_mapping" if "plex_local_videos_path_mapping" in attrs
                     else "plex_videos_path_mapping")
            raise serializers.ValidationError({field: [str(exc)]}) from None
        return attrs


class SettingsOutput(serializers.Serializer):
    plex_url = serializers.CharField()
    plex_token = serializers.CharField(help_text='"****" when a token is stored, else "".')
    plex_name = serializers.CharField()
    plex_config_folder = serializers.CharField()
    selected_libraries = serializers.ListField(child=serializers.CharField())
    media_path = serializers.CharField()
    plex_videos_path_mapping = serializers.CharField()
    plex_local_videos_path_mapping = serializers.CharField()
    gpu_threads = serializers.IntegerField()
    cpu_threads = serializers.IntegerField()
    thumbnail_interval = serializers.IntegerField()
    thumbnail_quality = serializers.IntegerField()


class SystemConfig(serializers.Serializer):
    plex_url = serializers.CharField()
    gpu_threads = serializers.IntegerField()
    cpu_threads = serializers.IntegerField()
    thumbnail_interval = serializers.IntegerField()
    thumbnail_quality = serializers.IntegerField()


class Success(serializers.Serializer):
    success = serializers.BooleanField()


class SuccessMessage(Success):
    message = serializers.CharField()


class Error(serializers.Serializer):
    error = serializers.CharField()
    code = serializers.CharField()


class SuccessError(serializers.Serializer):
    success = serializers.BooleanField()
    error = serializers.CharField()


class Health(serializers.Serializer):
    status = serializers.CharField()
    version = serializers.CharField()


class LoginInput(serializers.Serializer):
    token = serializers.CharField(max_length=1000, trim_whitespace=False)


class SetupStatus(serializers.Serializer):
    configured = serializers.BooleanField()
    setup_complete = serializers.BooleanField()
    current_step = serializers.IntegerField()
    plex_authenticated = serializers.BooleanField()


class SetupStateSerializer(serializers.Serializer):
    step = serializers.IntegerField(min_value=0, max_value=100)
    data = serializers.DictField(required=False, default=dict)

    def validate_data(self, value):
        import json

        if len(json.dumps(value, default=str)) > 100_000:
            raise serializers.ValidationError("At most 100 kB of wizard data.")
        return value


class SetupComplete(Success):
    redirect = serializers.CharField()


class TokenInfo(serializers.Serializer):
    env_controlled = serializers.BooleanField()
    token = serializers.CharField()
    token_length = serializers.IntegerField()
    source = serializers.ChoiceField(["environment", "config"])


class SetTokenInput(serializers.Serializer):
    token = serializers.CharField(max_length=500, trim_whitespace=False, allow_blank=True)
    confirm_token = serializers.CharField(max_length=500, trim_whitespace=False, allow_blank=True)


class Pin(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    auth_url = serializers.CharField()


class PinStatus(serializers.Serializer):
    authenticated = serializers.BooleanField()
    auth_token = serializers.CharField(allow_null=True)


class Server(serializers.Serializer):
    name = serializers.CharField()
    machine_id = serializers.CharField()
    host = serializers.CharField()
    port = serializers.IntegerField()
    ssl = serializers.BooleanField()
    owned = serializers.BooleanField()
    local = serializers.BooleanField()


class Servers(serializers.Serializer):
    servers = Server(many=True)


class Library(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()


class Libraries(serializers.Serializer):
    libraries = Library(many=True)


class LibraryCount(Library):
    item_count = serializers.IntegerField()


class LibraryCounts(serializers.Serializer):
    libraries = LibraryCount(many=True)


class PlexTestInput(serializers.Serializer):
    url = PlexURLField(required=False, allow_blank=True)
    token = PlexTokenField()


class PlexTestOutput(serializers.Serializer):
    success = serializers.BooleanField()
    server_name = serializers.CharField(required=False)
    version = serializers.CharField(required=False)
    error = serializers.CharField(required=False, help_text="Why the test failed (success false).")


class JobInput(serializers.Serializer):
    library_id = serializers.CharField(max_length=50)
    library_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate_library_id(self, value):
        value = value.strip()
        if not LIBRARY_ID.match(value):
            raise serializers.ValidationError("A Plex library id (its section key, e.g. \"1\").")
        return value


class JobCreated(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.CharField()
    message = serializers.CharField()


class Worker(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.ChoiceField(["gpu", "cpu"])
    status = serializers.ChoiceField(["working", "idle"])
    current_item = serializers.CharField(allow_null=True)


class JobSummary(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.CharField()
    library_id = serializers.CharField()
    library_name = serializers.CharField()
    progress = serializers.IntegerField()
    total_items = serializers.IntegerField()
    completed_items = serializers.IntegerField()
    failed_items = serializers.IntegerField()
    skipped_items = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(allow_null=True)


class JobDetail(JobSummary):
    workers = Worker(many=True)


class Jobs(serializers.Serializer):
    jobs = JobSummary(many=True)


class GPUInfo(serializers.Serializer):
    type = serializers.CharField()
    device = serializers.CharField()
    name = serializers.CharField()
    driver = serializers.CharField()
    usable = serializers.BooleanField()
    reason = serializers.CharField(help_text="Why a device that is present cannot be used (\"\" when it can).")


class SystemStatus(serializers.Serializer):
    gpus = GPUInfo(many=True)
    workers = serializers.DictField(child=serializers.IntegerField())
    jobs = serializers.DictField(child=serializers.IntegerField())


def _prefix_component_names() -> None:
    """OpenAPI component names "Previews<Class>": other apps have their own Health, Library, SettingsOutput..."""
    from drf_spectacular.utils import extend_schema_serializer

    for name, obj in list(globals().items()):
        if isinstance(obj, type) and issubclass(obj, serializers.Serializer) and obj.__module__ == __name__:
            extend_schema_serializer(component_name=f"Previews{name}")(obj)


_prefix_component_names()
