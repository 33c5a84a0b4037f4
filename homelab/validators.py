"""Checks shared by the apps' URL fields."""
from urllib.parse import urlsplit


def http_url_problem(value: str) -> str | None:
    """What is wrong with an http(s) URL, or None when it has the scheme, a host and a port in 1..65535.

    ``"port"``: not parseable, or a port that is not a number or out of range (urlsplit raises, or 0);
    ``"scheme"``: neither http nor https; ``"host"``: no host. Callers word the message in their API's terms."""
    try:
        parts = urlsplit(value)
        port = parts.port  # ValueError when not a number or out of 0..65535, or a bad IPv6 literal
    except ValueError:
        return "port"
    if parts.scheme not in ("http", "https"):
        return "scheme"
    if not parts.hostname:
        return "host"
    if port == 0:
        return "port"
    return None


# The largest id a row can have: BigAutoField is a signed 64-bit integer (SQLite raises OverflowError on a
# larger parameter, PostgreSQL a DataError, so an id above it is refused before it reaches the database).
MAX_ID = 2 ** 63 - 1


def is_possible_id(value: int) -> bool:
    """Whether ``value`` can be a row's id (1 .. MAX_ID)."""
    return 0 < value <= MAX_ID
