"""Test settings: homelab.settings with a throw-away data dir (shared with subprocesses through the
environment), a file-backed SQLite test database (so a worker process can see it), and a Celery queue and
cache prefix of this run's own, so a suite run beside `make run` on the same Redis does not mix with it."""
import os
import tempfile
import uuid

_data = os.environ.get("HOMELAB_TEST_DATA_DIR") or tempfile.mkdtemp(prefix="homelab-test-")
_run = os.environ.get("HOMELAB_TEST_RUN_ID") or uuid.uuid4().hex[:8]
os.environ["HOMELAB_TEST_DATA_DIR"] = _data
os.environ["HOMELAB_TEST_RUN_ID"] = _run
os.environ["HOMELAB_DATA_DIR"] = _data
os.environ.setdefault("HOMELAB_ENCRYPTION_KEY_FILE", os.path.join(_data, "encryption.key"))
os.environ.pop("WEB_AUTH_TOKEN", None)

from homelab.settings import *  # noqa: E402,F401,F403
from homelab.settings import CACHES, DATABASES, DATA_DIR  # noqa: E402

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

TEST_RUN_ID = _run
CACHES["default"]["KEY_PREFIX"] = f"homelab-test-{_run}"
CELERY_TASK_DEFAULT_QUEUE = f"homelab-test-{_run}"
EVENTS_CHANNEL_PREFIX = f"homelab-test-{_run}:events:"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WEB_AUTH_TOKEN = ""
HTTP_MAX_RETRIES = 0
# epg.remote: workers poll a (fake or live) remote Dispatcharr quickly
DISPATCHARR_POLL_INTERVAL = 0.2
# previews: plex.tv is never called from tests unless a test points PLEX_TV_URL at its fake (port 9: refused)
PLEX_TV_URL = "http://127.0.0.1:9"
