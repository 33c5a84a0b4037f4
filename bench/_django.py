"""Django set up for the integrations benchmarks: a throw-away data dir, SQLite, an in-process cache."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def environ(data_dir: str) -> dict:
    """The environment for this process and for servers it starts."""
    env = {**os.environ, "HOMELAB_DATA_DIR": data_dir,
           "HOMELAB_ENCRYPTION_KEY_FILE": os.path.join(data_dir, "encryption.key"),
           "REDIS_URL": "redis://127.0.0.1:1/0",  # not used: the cache is in-process
           "DJANGO_SETTINGS_MODULE": "_settings",
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(BENCH), os.environ.get("PYTHONPATH", "")])}
    env.pop("DATABASE_URL", None)
    return env


def setup() -> str:
    for path in (str(ROOT), str(BENCH)):
        if path not in sys.path:
            sys.path.insert(0, path)
    data_dir = tempfile.mkdtemp(prefix="homelab-bench-")
    os.environ.clear()
    os.environ.update(environ(data_dir))
    import django

    django.setup()
    return data_dir
