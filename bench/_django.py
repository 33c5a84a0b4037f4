"""Django set up for the integrations benchmarks: a throw-away data dir, SQLite, an in-process cache."""
from __future__ import annotations

import os
import sys
import tempfile
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup() -> str:
    sys.path.insert(0, str(ROOT))
    data_dir = tempfile.mkdtemp(prefix="homelab-bench-")
    os.environ["HOMELAB_DATA_DIR"] = data_dir
    os.environ["HOMELAB_ENCRYPTION_KEY_FILE"] = os.path.join(data_dir, "encryption.key")
    os.environ.pop("DATABASE_URL", None)
    os.environ["REDIS_URL"] = "redis://127.0.0.1:1/0"  # not used: the cache below is in-process
    module = types.ModuleType("bench_settings")
    exec("from homelab.settings import *\n"
         "CACHES = {'default': {'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}}\n"
         "LOG_LEVEL = 'WARNING'\n"
         "LOGGING['root']['level'] = 'WARNING'\n"
         "LOGGING['loggers']['django']['level'] = 'ERROR'\n"
         "HTTP_MAX_RETRIES = 0\n", module.__dict__)
    sys.modules["bench_settings"] = module
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    import django

    django.setup()
    return data_dir
