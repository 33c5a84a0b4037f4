"""Settings for the integrations benchmarks: homelab.settings with an in-process cache and quiet logs.
The data dir (SQLite, keys) comes from HOMELAB_DATA_DIR, set by bench/_django.py."""
from homelab.settings import *  # noqa: F401,F403
from homelab.settings import LOGGING

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
LOGGING["root"]["level"] = "WARNING"
LOGGING["loggers"]["django"]["level"] = "ERROR"
HTTP_MAX_RETRIES = 0
