"""A logging filter that masks secrets: known values and anything that looks like a credential."""
import logging
import re
import threading

MASK = "****"
_known: set[str] = set()
_known_lock = threading.Lock()
_MAX_KNOWN = 10000
_MIN_SECRET_LEN = 6

_PATTERNS = [
    # Authorization: Bearer xxx / Basic xxx / MediaBrowser Token="..."
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:bearer|basic|token|mediabrowser)?\s*)[^\s'\",}]+"),
    # key=value and "key": "value" for names that hold secrets
    re.compile(
        r"(?i)(\b(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access|refresh|x-plex-token|x-emby-token"
        r"|x-api-key|x-auth-token|sessionid|sid|cookie|key)['\"]?\s*[:=]\s*['\"]?)([^\s'\"&,}]+)"
    ),
    # credentials in a URL's query, whatever they are called there (Xtream's ?username=..&password=.., logged
    # whole by urllib3 at DEBUG)
    re.compile(r"(?i)([?&;](?:username|user|login|email|password|passwd|pass|pwd|api[_-]?key|apikey|key|token"
               r"|auth|sid)=)([^&\s#'\"]+)"),
    # Xtream stream URLs carry both in the path, right after the host: /live/<username>/<password>/<id>.ts
    re.compile(r"((?:://[^/\s'\"]+|\b(?:GET|HEAD) )/(?:live|movie|series|timeshift)/)[^/\s?#'\"]+/[^/\s?#'\"]+(?=/)"),
    # Fernet ciphertext
    re.compile(r"()gAAAAA[0-9A-Za-z_\-=]{20,}"),
]


_known_sorted: tuple[str, ...] = ()  # _known, longest first (a secret may contain a shorter one); rebuilt on change


def register_secret(value: str) -> None:
    global _known_sorted
    if value and len(value) >= _MIN_SECRET_LEN and value not in _known:
        with _known_lock:
            if len(_known) >= _MAX_KNOWN:
                _known.clear()
            _known.add(value)
            _known_sorted = tuple(sorted(_known, key=len, reverse=True))


def mask(text: str) -> str:
    for secret in _known_sorted:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


class MaskSecretsFilter(logging.Filter):
    """Rewrites the record's message with secrets masked. A record logged with
    ``extra={"unmasked": True}`` passes untouched (used once, to print the generated web token)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "unmasked", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return True
        masked = mask(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        return True


class MaskArgumentsFilter(logging.Filter):
    """Masks secrets in the message and in each string argument, keeping ``record.args``: for formatters that read
    the arguments themselves (uvicorn's access log: client, method, path with its query, ...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask(a) if isinstance(a, str) else a for a in record.args)
        return True


def mask_uvicorn_logs() -> None:
    """uvicorn configures its own loggers (not Django's LOGGING): give their handlers the mask too, so a query's
    ``?token=`` or ``?key=`` never reaches the access log."""
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, MaskArgumentsFilter) for f in handler.filters):
                handler.addFilter(MaskArgumentsFilter())
