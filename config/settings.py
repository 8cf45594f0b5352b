"""Settings for Huying, driven entirely by environment variables.

With no environment set, Huying runs on "embedded defaults" so that a newcomer's ``make run`` works
on a bare machine: a SQLite file, an in-memory channel layer, a Celery broker on the local
filesystem, local-memory cache and e-mail written to files. Setting ``DATABASE_URL``,
``REDIS_URL``, ``ELASTICSEARCH_URL`` and the ``EMAIL_*`` variables switches to the real services.
Every variable is documented in README.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypedDict

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HUYING_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


# --- Core -------------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        # Production mode (DEBUG=false) must never run on a key that is public in this repository.
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")
    SECRET_KEY = "huying-insecure-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "axes",
    "django_fsm",
    "routing",
    "appeals",
    # API clients (channel partners' keys, stored hashed) for the /api/ submission channel.
    "appeals.api",
    "notifications",
    "analytics",
    # Open311 GeoReport v2, the bureau-system API and signed webhooks (docs/integrations.md).
    "integrations",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns lockouts into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'huying.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, with small bulk inserts written as VALUES (see config/postgresql).
    DATABASES["default"]["ENGINE"] = "config.postgresql"
    # Django's psycopg pool instead of persistent connections: under ASGI every request runs in
    # its own thread, and CONN_MAX_AGE>0 leaks connections there (Django ticket #33497).
    if env_bool("DATABASE_POOL", True):
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN", 2),
            "max_size": env_int("DATABASE_POOL_MAX", 20),
            "timeout": 10,
        }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server, the worker and the scheduler share one file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, channels, cache -------------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # CHANNELS_LAYER=pubsub: Redis PUBLISH/SUBSCRIBE, one message per server process per group
    # (fan-out happens in the process; see docs/benchmarks.md). core: one Redis list
    # per consumer, messages kept briefly if a consumer lags. Consoles resync on reconnect either way.
    _CHANNEL_BACKENDS = {
        "core": "channels_redis.core.RedisChannelLayer",
        "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": _CHANNEL_BACKENDS[os.environ.get("CHANNELS_LAYER", "pubsub")],
            # redis-py 8 reads with a 5 s socket timeout by default, the same as channels-redis's
            # 5 s BZPOPMIN: the read races the timeout and an idle websocket is dropped. 15 s > 5 s.
            # Its async pools also stop at 100 connections per process, which a burst of console
            # connections exceeds (MaxConnectionsError); CHANNELS_REDIS_MAX_CONNECTIONS raises that.
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 15,
                        "max_connections": env_int("CHANNELS_REDIS_MAX_CONNECTIONS", 1000),
                    }
                ],
                "prefix": os.environ.get("CHANNELS_PREFIX", "huying"),
            },
        }
    }
    CACHES: dict[str, dict[str, Any]] = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_PREFIX", "huying"),
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Fragments of public pages that are the same for every visitor (the appeal form's fields, see
# appeals.portal.views), kept in each process: keyed by what they are drawn from, cheap to rebuild.
CACHES["template_fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "template-fragments",
    "OPTIONS": {"MAX_ENTRIES": 50},
}

# --- Celery -----------------------------------------------------------------------------------

CELERY_BROKER_DIR = VAR_DIR / "celery-broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
else:
    # kombu's filesystem transport: a broker that needs no server, shared by the web process,
    # the worker and the scheduler through a folder under var/.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "store_processed": False,
        # Exchange bindings (kombu's default is ./control in the working directory).
        "control_folder": str(CELERY_BROKER_DIR / "control"),
    }
    for _folder in ("queue", "processed", "control"):
        (CELERY_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must not hang a web request when the broker is down: the outbox re-dispatches later.
CELERY_BROKER_CONNECTION_TIMEOUT = float(os.environ.get("CELERY_BROKER_CONNECTION_TIMEOUT", "2"))
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Search -----------------------------------------------------------------------------------

ELASTICSEARCH_URL = os.environ.get("ELASTICSEARCH_URL", "")
ELASTICSEARCH_INDEX_PREFIX = os.environ.get("ELASTICSEARCH_INDEX_PREFIX", "huying")

# --- E-mail -----------------------------------------------------------------------------------

EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
else:
    EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "呼应 Huying <noreply@huying.localhost>")

# --- Auth -------------------------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/staff/"
LOGOUT_REDIRECT_URL = "login"
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# The lockout page says when the staff member can try again (appeals.console.auth.lockout).
AXES_LOCKOUT_CALLABLE = "appeals.console.auth.lockout"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation ---------------------------------------------------------------------

LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ----------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Attachments live outside the web root and are served only through permission-checked views.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(Path(os.environ.get("PRIVATE_MEDIA_ROOT", VAR_DIR / "private")))},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# In development whitenoise serves straight from the app and static folders (no collectstatic).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
ATTACHMENT_MAX_FILES = env_int("ATTACHMENT_MAX_FILES", 5)
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = ATTACHMENT_MAX_FILES * ATTACHMENT_MAX_BYTES + 1024 * 1024

# --- REST API and OpenAPI ---------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Huying (呼应) API",
    "DESCRIPTION": "Enterprise appeal-response platform",
    "VERSION": "1.0.0",
}

# --- Integrations (docs/integrations.md) --------------------------------------------------------

OPEN311_JURISDICTION_ID = os.environ.get("OPEN311_JURISDICTION_ID", "huying")
OPEN311_PUBLIC_LISTING = env_bool("OPEN311_PUBLIC_LISTING", True)
OPEN311_MAX_BODY_BYTES = env_int("OPEN311_MAX_BODY_BYTES", 64 * 1024)
OPEN311_TOKEN_MAX_AGE_DAYS = env_int("OPEN311_TOKEN_MAX_AGE_DAYS", 30)
BUREAU_EVENTS_SETTLE_SECONDS = float(os.environ.get("BUREAU_EVENTS_SETTLE_SECONDS", "5"))
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 10)
WEBHOOK_RETRY_BASE_SECONDS = float(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS", "30"))
WEBHOOK_RETRY_MAX_SECONDS = float(os.environ.get("WEBHOOK_RETRY_MAX_SECONDS", "3600"))
# Loopback and private-network webhook targets: allowed in development, refused in production
# unless an endpoint is explicitly marked as internal (or this is set).
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", DEBUG)

# --- Security in production -------------------------------------------------------------------

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logging ----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# --- Notifications (notifications/, see docs/realtime.md) --------------------------------------

# SMS provider: dotted path of a notifications.backends.sms.BaseSMSBackend subclass. The default
# writes messages to var/sms/<date>.jsonl; SMS_BACKEND_OPTIONS are passed to the backend.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "notifications.backends.sms.FileSMSBackend")
SMS_BACKEND_OPTIONS: dict = {}
SMS_FILE_PATH = Path(os.environ.get("SMS_FILE_PATH", VAR_DIR / "sms"))
# A delivery failing with transient errors is retried with backoff (30 s, 1, 2, 4 … min) and
# becomes a dead letter after this many attempts.
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 5)
NOTIFY_RETRY_BASE_SECONDS = float(os.environ.get("NOTIFY_RETRY_BASE_SECONDS", "30"))
NOTIFY_RETRY_MAX_SECONDS = float(os.environ.get("NOTIFY_RETRY_MAX_SECONDS", "3600"))
# Outbox rows still unprocessed after this long are delivered by the periodic re-dispatch.
NOTIFY_REDISPATCH_AFTER_SECONDS = float(os.environ.get("NOTIFY_REDISPATCH_AFTER_SECONDS", "30"))
# Queue the delivery task right after commit (off: only the periodic re-dispatch delivers).
NOTIFY_KICK_DELIVERY = env_bool("NOTIFY_KICK_DELIVERY", True)
# Celery queue for the delivery tasks queued after commit (empty: Celery's default queue). A
# dedicated queue lets a separate worker serve notifications.
NOTIFY_TASK_QUEUE = os.environ.get("NOTIFY_TASK_QUEUE", "") or None
# Seconds a live presence entry ("viewing", "typing") lasts without a refresh from its browser.
NOTIFY_PRESENCE_TTL = env_int("NOTIFY_PRESENCE_TTL", 60)

# --- Huying domain settings (defaults from docs; each is configurable) -------------------------


class HuyingSettings(TypedDict):
    DEFAULT_RATING_DAYS: int
    BASIC_SATISFIED_WEIGHT: float
    SCORE_WEIGHTS: tuple[float, float, float]
    COUNT_DEFAULT_RATINGS: bool


HUYING: HuyingSettings = {
    # Natural days after a reply before an unrated appeal is closed as 基本满意 (Guangdong: 7).
    "DEFAULT_RATING_DAYS": env_int("HUYING_DEFAULT_RATING_DAYS", 7),
    # Weight given to 基本满意 in the satisfaction rate (0 = not satisfied, 1 = fully satisfied).
    "BASIC_SATISFIED_WEIGHT": float(os.environ.get("HUYING_BASIC_SATISFIED_WEIGHT", "0.5")),
    # Composite score weights: response, resolution, satisfaction.
    "SCORE_WEIGHTS": (0.30, 0.35, 0.35),
    # Whether default ratings count in satisfaction/resolution metrics.
    "COUNT_DEFAULT_RATINGS": env_bool("HUYING_COUNT_DEFAULT_RATINGS", True),
}

# --- Public portal and API (rate limits) -------------------------------------------------------

# django-ratelimit counts in the default cache (Redis when REDIS_URL is set). Rates are
# "count/period" with period s, m, h or d (e.g. "30/h"). RATELIMIT_ENABLE=false switches every
# limit off, for the submission benchmark only.
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
PORTAL_RATE_LIMITS = {
    # Appeals filed from one client address (offices behind one NAT address file several a day).
    "submit_ip": os.environ.get("PORTAL_RATE_SUBMIT_IP", "30/h"),
    # Appeals filed for one enterprise (unified social credit code).
    "submit_credit_code": os.environ.get("PORTAL_RATE_SUBMIT_CODE", "10/d"),
    # Tracking-number + access-code lookups from one client address (guessing defence).
    "lookup_ip": os.environ.get("PORTAL_RATE_LOOKUP_IP", "20/10m"),
    # Supplements, withdrawals and ratings from one client address.
    "action_ip": os.environ.get("PORTAL_RATE_ACTION_IP", "60/h"),
    # Requests per API client key (a partner's server submits for many users).
    "api_client": os.environ.get("API_RATE_CLIENT", "600/m"),
    # Lookups per API client key.
    "api_lookup": os.environ.get("API_RATE_LOOKUP", "300/m"),
    # Open311 public reads (services, requests, tokens) from one client address.
    "open311_read_ip": os.environ.get("OPEN311_RATE_READ_IP", "120/m"),
}
# Seconds a process keeps a partner's API client row (appeals.api.authentication.active_client).
API_CLIENT_CACHE_SECONDS = env_int("API_CLIENT_CACHE_SECONDS", 10)

# --- Routing, classifier, assignment and deadlines (routing app; docs/routing.md) ---------------

ROUTING = {
    # Category "other": the classifier's suggestion routes automatically at or above this confidence;
    # below it the appeal goes to triage with the suggestion shown.
    "AUTO_ROUTE_CONFIDENCE": float(os.environ.get("ROUTING_AUTO_ROUTE_CONFIDENCE", "0.7")),
    # A chosen category "clearly contradicts" the text when the classifier gives it at most this
    # probability and prefers another category; the disagreement is then flagged (disputed).
    "CONTRADICTION_MAX_PROBABILITY": float(os.environ.get("ROUTING_CONTRADICTION_MAX_PROBABILITY", "0.02")),
    # ... but only when the text carries at least this many known character n-grams (a title and one
    # short sentence is too little evidence to overrule what the appellant chose).
    "CONTRADICTION_MIN_FEATURES": env_int("ROUTING_CONTRADICTION_MIN_FEATURES", 60),
    # A contradicted choice is re-routed automatically only at or above this confidence (else triage).
    "CONTRADICTION_AUTO_ROUTE_CONFIDENCE": float(os.environ.get("ROUTING_CONTRADICTION_CONFIDENCE", "0.8")),
    # Classifier features ("char" n-grams or "jieba" words; measured in bench/routing_accuracy.py).
    "CLASSIFIER_FEATURES": os.environ.get("ROUTING_CLASSIFIER_FEATURES", "char"),
    "CLASSIFIER_RELOAD_SECONDS": env_int("ROUTING_CLASSIFIER_RELOAD_SECONDS", 60),
    # Duplicate suggestions (并单): same enterprise, similar text, filed within this many days.
    "DUPLICATE_WINDOW_DAYS": env_int("ROUTING_DUPLICATE_WINDOW_DAYS", 14),
    "DUPLICATE_MIN_SIMILARITY": float(os.environ.get("ROUTING_DUPLICATE_MIN_SIMILARITY", "0.35")),
    # Working-hour limits count inside these hours of working days, in this time zone.
    "CALENDAR_TIME_ZONE": "Asia/Shanghai",
    "WORKING_HOURS": (os.environ.get("ROUTING_WORKDAY_START", "09:00"), os.environ.get("ROUTING_WORKDAY_END", "18:00")),
    # Deadline sweep: warn this fraction of the window before a deadline (at most WARNING_HOURS before),
    # urge (催办) at the deadline, supervise (督办) this many working days after it.
    "WARNING_FRACTION": float(os.environ.get("ROUTING_WARNING_FRACTION", "0.2")),
    "WARNING_HOURS": env_int("ROUTING_WARNING_HOURS", 24),
    "SUPERVISE_AFTER_WORKING_DAYS": env_int("ROUTING_SUPERVISE_AFTER_WORKING_DAYS", 2),
    # Co-handling: working days a co-handler has for its part unless the inviter says otherwise.
    "COHANDLING_WORKING_DAYS": env_int("ROUTING_COHANDLING_WORKING_DAYS", 3),
}
