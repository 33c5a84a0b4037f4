"""Path converters shared by every mount. ``<int64:pk>`` matches only ids a database column can hold: a larger
number (``/api/services/9223372036854775808/``) does not match the route, so it falls through to the mount's
catch-all and answers 404 in that mount's dialect, where ``<int:pk>`` would reach the query and fail with a 500
(SQLite's OverflowError, PostgreSQL's "out of range for type bigint").

Registered on import; a urls module that uses it imports this module first (``from homelab import converters``).
drf-spectacular reads it as an int64 (``SPECTACULAR_SETTINGS["PATH_CONVERTER_OVERRIDES"]``).
"""
from django.urls import register_converter

INT64_MAX = 2**63 - 1


class Int64Converter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > INT64_MAX:
            raise ValueError("past int64")  # the URL does not match: the mount's catch-all answers 404
        return number

    def to_url(self, value) -> str:
        return str(int(value))


register_converter(Int64Converter, "int64")
