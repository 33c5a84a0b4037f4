"""Settings of the push-refresh, each from Django settings when defined there, else from the environment.

| variable | default | meaning |
|---|---|---|
| ``DISPATCHARR_TIMEOUT`` | 30 | seconds for each HTTP call to a remote Dispatcharr (the guide's default) |
| ``DISPATCHARR_WAIT_TIMEOUT`` | 300 | seconds a push waits for the remote refresh to end before reporting ``timeout`` |
| ``DISPATCHARR_POLL_INTERVAL`` | 2 | seconds between two polls of the remote source's status |
| ``DISPATCHARR_AUTH_FAILURE_LIMIT`` | 3 | consecutive authentication failures after which a link disables itself |
| ``DISPATCHARR_RETRY_BACKOFF`` | 10 | seconds before the first retry of a push after a temporary error (doubled each time, 5 at most) |
"""
from __future__ import annotations

import os

from django.conf import settings

DEFAULTS = {
    "DISPATCHARR_TIMEOUT": (30.0, float),
    "DISPATCHARR_WAIT_TIMEOUT": (300.0, float),
    "DISPATCHARR_POLL_INTERVAL": (2.0, float),
    "DISPATCHARR_AUTH_FAILURE_LIMIT": (3, int),
    "DISPATCHARR_RETRY_BACKOFF": (10.0, float),
}
MAX_RETRIES = 5


def get(name: str):
    default, cast = DEFAULTS[name]
    if hasattr(settings, name):
        return cast(getattr(settings, name))
    raw = os.environ.get(name, "")
    if not raw.strip():
        return default
    try:
        return cast(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None
