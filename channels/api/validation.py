"""FastAPI's validation dialect: 422 with ``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``, the
messages pydantic v2 writes, every error of the request at once."""
from __future__ import annotations

import re

from rest_framework import exceptions, status

MISSING = ("missing", "Field required")
INT_PARSING = ("int_parsing", "Input should be a valid integer, unable to parse string as an integer")
STRING_TYPE = ("string_type", "Input should be a valid string")
BOOL_PARSING = ("bool_parsing", "Input should be a valid boolean, unable to interpret input")


_INTEGER = re.compile(r"[ \t]*[+-]?[0-9]+[ \t]*")
NUL = ("string_pattern_mismatch", "String should not contain NUL characters")


def query_text(params, name: str, errors: Errors, *, max_length: int | None = None) -> str:
    """A text query parameter; NUL characters (which no stored value has, and PostgreSQL refuses) are invalid."""
    raw = params.get(name, "")
    if "\x00" in raw:
        errors.add("query", name, NUL)
        return ""
    if max_length is not None and len(raw) > max_length:
        errors.add("query", name, ("string_too_long", f"String should have at most {max_length} characters"))
        return ""
    return raw


class RequestValidationError(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "validation_error"

    def __init__(self, errors: list[dict]):
        # set as is: APIException would turn the strings into ErrorDetail, fine for JSON, but keep it plain
        self.detail = {"detail": errors}


class Errors:
    def __init__(self):
        self.items: list[dict] = []

    def add(self, where: str, name, kind: tuple[str, str] | tuple[str, str, str]):
        self.items.append({"loc": [where, name], "msg": kind[1], "type": kind[0]})

    def raise_if_any(self):
        if self.items:
            raise RequestValidationError(self.items)


def query_int(params, name: str, errors: Errors, *, required: bool, ge: int | None = None,
              le: int | None = None) -> int | None:
    raw = params.get(name)
    if raw is None:
        if required:
            errors.add("query", name, MISSING)
        return None
    if not _INTEGER.fullmatch(raw):  # ASCII digits only (int() would take "１" and "1_000")
        errors.add("query", name, INT_PARSING)
        return None
    try:
        value = int(raw)
    except ValueError:  # more digits than Python converts
        errors.add("query", name, INT_PARSING)
        return None
    if ge is not None and value < ge:
        errors.add("query", name, ("greater_than_equal", f"Input should be greater than or equal to {ge}"))
        return None
    if le is not None and value > le:
        errors.add("query", name, ("less_than_equal", f"Input should be less than or equal to {le}"))
        return None
    return value


def enum_message(values) -> str:
    quoted = [f"'{v}'" for v in values]
    return "Input should be " + (", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else quoted[0])


def query_choice(params, name: str, errors: Errors, values) -> str:
    raw = params.get(name)
    if raw is None or raw == "":
        return ""
    if raw not in values:
        errors.add("query", name, ("enum", enum_message(values)))
        return ""
    return raw


def body_string(data, name: str, errors: Errors, *, max_length: int = 2000) -> str | None:
    if not isinstance(data, dict) or name not in data:
        errors.add("body", name, MISSING)
        return None
    value = data[name]
    if not isinstance(value, str):
        errors.add("body", name, STRING_TYPE)
        return None
    if len(value) > max_length:
        errors.add("body", name, ("string_too_long", f"String should have at most {max_length} characters"))
        return None
    if "\x00" in value:
        errors.add("body", name, NUL)
        return None
    return value
