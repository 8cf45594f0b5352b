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
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("HUYING_VAR_DIR", BASE_DIR / "var"))

from config.settings.env import env_bool, env_int, env_list  # noqa: E402

# --- Core -------------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        # Production mode (DEBUG=false) must never run on a key that is public in this repository.
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")
    SECRET_KEY = "huying-insecure-development-key-do-not-use-in-production"  # noqa: S105

# Keys of the access codes' HMAC (appeals/access_codes.py), newest first; older ones still verify the
# codes they hashed. Unset: SECRET_KEY, which is what codes were hashed with before this setting existed
# (list it last when you set new keys, and keep it there while those appeals are open).
ACCESS_CODE_KEYS = env_list("ACCESS_CODE_KEYS", [SECRET_KEY])

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Links sent to appellants (SMS, e-mail, the API's status_url). Unset, it follows the address `make run`
# serves on (HOST/PORT, as in the Procfile); behind a proxy set it to the public address.
_SERVE_HOST = os.environ.get("HOST", "") or "127.0.0.1"
if _SERVE_HOST in {"0.0.0.0", "::", "[::]"}:  # noqa: S104 - a bind-all address is not a link target
    _SERVE_HOST = "127.0.0.1"
elif ":" in _SERVE_HOST and not _SERVE_HOST.startswith("["):
    _SERVE_HOST = f"[{_SERVE_HOST}]"
SITE_URL = (os.environ.get("SITE_URL") or f"http://{_SERVE_HOST}:{os.environ.get('PORT') or '8000'}").rstrip("/")

# Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or CIDR networks).
# Default: none. A request's client is then the TCP peer and forwarded headers are dropped, so a
# header typed by a visitor can never pick their rate-limit bucket or lockout key. Behind nginx on
# the same host set TRUSTED_PROXIES=127.0.0.1,::1 (deploy/huying.env does). See config/proxies.py.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])

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
    # Swagger UI served from the project, so /api/docs/ works without internet.
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "django_fsm",
    # Database triggers that refuse UPDATE/DELETE of audit rows on PostgreSQL (appeals.AppealEvent).
    "pgtrigger",
    # Change history of the routing configuration (who, when, before/after), shown in the admin.
    "simple_history",
    "routing",
    "appeals",
    # API clients (channel partners' keys, stored hashed) for the /api/ submission channel.
    "appeals.api",
    "notifications",
    "analytics",
    "knowledge",
    "alerts",
    "followup",
    "problems",
    # Open311 GeoReport v2, the bureau-system API and signed webhooks (docs/integrations.md).
    "integrations",
]
MIDDLEWARE = [
    # First: every later layer (HTTPS redirects, rate limits, django-axes, the access log) sees the
    # real client address and scheme, resolved from trusted proxies only.
    "config.proxies.TrustedProxyMiddleware",
    "config.proxies.AccessLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF (the first to read request.POST): uploads with unusable names are reported, not dropped.
    "appeals.portal.uploads.BadFileNamesMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Two-step login (django-otp): request.user.is_verified(); administrators must have it.
    "django_otp.middleware.OTPMiddleware",
    # Records the signed-in user on history rows written during a request (routing configuration).
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "appeals.console.two_factor.RequireTwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Dashboard and analytics reads on the read replica when DATABASE_REPLICA_URL is set (no-op otherwise).
    "config.replica.ReplicaReadsMiddleware",
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
# A PostgreSQL streaming replica for the heavy reads: the dashboard, analytics pages and the weekly
# report (config/replica.py). Writes, logins and anything read right after a write stay on the primary;
# a replica that is down or lags more than DATABASE_REPLICA_MAX_LAG seconds is skipped with a log line.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=0)
    if DATABASES["replica"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must be a postgres:// URL (a streaming replica).")
    DATABASES["replica"]["ENGINE"] = "config.postgresql"
    # Fail over to the primary quickly when the replica is unreachable.
    DATABASES["replica"].setdefault("OPTIONS", {})["connect_timeout"] = env_int("DATABASE_REPLICA_CONNECT_TIMEOUT", 2)
    # Under test the alias reads the test database's name on the replica server.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["config.replica.ReplicaRouter"]
DATABASE_REPLICA_MAX_LAG = float(os.environ.get("DATABASE_REPLICA_MAX_LAG", "30"))
# How long a process trusts its last look at the replica (up, lag) before asking again.
DATABASE_REPLICA_CHECK_SECONDS = float(os.environ.get("DATABASE_REPLICA_CHECK_SECONDS", "5"))
# URL prefixes whose GET requests read from the replica, and Celery tasks that do.
DATABASE_REPLICA_PATHS = env_list("DATABASE_REPLICA_PATHS", ["/analytics/"])
DATABASE_REPLICA_TASKS = env_list("DATABASE_REPLICA_TASKS", ["analytics.tasks.weekly_report"])

# --- Redis, channels, cache -------------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")
# Each service can have its own server; each defaults to REDIS_URL (and, without it, to the embedded
# in-process default). A province splits them when the cache's evictions or the broker's backlog must
# not slow the live consoles (docs/operations.md).
CHANNEL_LAYER_URL = os.environ.get("CHANNEL_LAYER_URL", "") or REDIS_URL
CACHE_URL = os.environ.get("CACHE_URL", "") or REDIS_URL
if CHANNEL_LAYER_URL:
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
                        "address": CHANNEL_LAYER_URL,
                        "socket_timeout": 15,
                        "max_connections": env_int("CHANNELS_REDIS_MAX_CONNECTIONS", 1000),
                    }
                ],
                "prefix": os.environ.get("CHANNELS_PREFIX", "huying"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
CACHES: dict[str, dict[str, Any]]
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            # Django's Redis cache, but an unreachable Redis is a miss, never an error: filing an
            # appeal must not depend on it (config/cache.py). Short timeouts bound each attempt.
            "BACKEND": "config.cache.FailSoftRedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": os.environ.get("CACHE_PREFIX", "huying"),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
elif CACHE_URL in ("", "locmem://"):
    # One cache per process: rate limits then count per process (fine for `make run`, not for production).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    raise ImproperlyConfigured(
        f"CACHE_URL must be a redis://, rediss:// or unix:// URL (or locmem://), not {CACHE_URL!r}."
    )
# Fragments of public pages that are the same for every visitor (the appeal form's fields, see
# appeals.portal.views), kept in each process: keyed by what they are drawn from, cheap to rebuild.
CACHES["template_fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "template-fragments",
    "OPTIONS": {"MAX_ENTRIES": 50},
}

# --- Celery -----------------------------------------------------------------------------------

CELERY_BROKER_DIR = VAR_DIR / "celery-broker"
# CELERY_BROKER_URL: e.g. amqp://user:pass@host:5672/huying (RabbitMQ) or redis://…; defaults to REDIS_URL.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "") or REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS: dict
if CELERY_BROKER_URL.startswith(("redis://", "rediss://", "unix://")):
    # kombu's Redis transport with the fix that keeps the worker alive through a Redis outage (config/broker.py).
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Messages a worker took but never acknowledged (it died, or Redis went away while it held
        # countdown/ETA messages) go back on the queue after this long. It must exceed the longest task
        # (close_unrated_appeals: 30 min) or a running acks_late task is handed out twice.
        "visibility_timeout": 3600,
        # A dead connection is noticed within seconds instead of hanging on a half-open socket.
        "socket_timeout": 10,
        "socket_connect_timeout": 5,
        "socket_keepalive": True,
        "health_check_interval": 10,
        "retry_on_timeout": True,
    }
elif CELERY_BROKER_URL.startswith("sentinel://"):
    # Redis behind Sentinel: sentinel://h1:26379;sentinel://h2:26379;sentinel://h3:26379 and the master's name.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "master_name": os.environ.get("REDIS_SENTINEL_MASTER", "huying"),
        "visibility_timeout": 3600,
    }
elif CELERY_BROKER_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
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
# The worker keeps reconnecting for as long as the broker is away (Celery's default gives up after 100
# attempts and exits); a supervisor restart policy (Restart=always) is the second line in deployment.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Do not cancel running acks_late tasks when the connection drops (they are idempotent; cancelling them
# has its own crash on reconnection, celery/celery#9250); their result is simply acknowledged later.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
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

# --- Audit trail (appeals.audit; docs/architecture.md "Audit trail") ---------------------------

# Keys that sign the audit chain (HMAC-SHA256), newest first: "id:secret,id:secret". New events are
# signed with the first; older ones still verify with the rest, so a key can be rotated without
# re-signing history (keep a retired key for as long as events it signed exist). Secrets must be at
# least 32 characters. Unset, a development key is derived from SECRET_KEY and labelled
# "dev-insecure"; ``manage.py check --deploy`` refuses that in production (appeals.E001).
AUDIT_KEYS: list[tuple[str, str]] = []
for _item in env_list("AUDIT_KEYS", []):
    _key_id, _sep, _secret = _item.partition(":")
    if not _sep or not _key_id.strip() or len(_secret.strip()) < 32:
        raise ImproperlyConfigured('AUDIT_KEYS must be "id:secret" pairs with secrets of at least 32 characters.')
    AUDIT_KEYS.append((_key_id.strip(), _secret.strip()))
# Daily signed digests of every appeal's chain head (AuditCheckpoint) kept in the database.
AUDIT_CHECKPOINTS_KEPT = env_int("AUDIT_CHECKPOINTS_KEPT", 30)

# --- Search -----------------------------------------------------------------------------------

# Full-text search (appeals.search; docs/operations.md "Search"). Empty: the database searches
# (the embedded default). SEARCH_URL may name the engine in its scheme (opensearch://host:9200,
# elasticsearch+https://host:9200); a plain http(s) URL takes SEARCH_ENGINE: "opensearch"
# (opensearch-py; OpenSearch, and Elasticsearch 7.10's API) or "elasticsearch" (Elasticsearch 8+).
# ELASTICSEARCH_URL, the older name, still works and means engine "elasticsearch".
SEARCH_URL = os.environ.get("SEARCH_URL", "") or os.environ.get("ELASTICSEARCH_URL", "")
SEARCH_ENGINE = os.environ.get("SEARCH_ENGINE", "") or (
    "elasticsearch" if os.environ.get("ELASTICSEARCH_URL") and not os.environ.get("SEARCH_URL") else "opensearch"
)
SEARCH_INDEX_PREFIX = os.environ.get("SEARCH_INDEX_PREFIX", "") or os.environ.get(
    "ELASTICSEARCH_INDEX_PREFIX", "huying"
)
SEARCH_SHARDS = env_int("SEARCH_SHARDS", 1)
SEARCH_REPLICAS = env_int("SEARCH_REPLICAS", 0)  # 1 or more on a cluster of several nodes
SEARCH_TIMEOUT = float(os.environ.get("SEARCH_TIMEOUT", "3"))  # seconds per request to the server
# A search matching more appeals lists this many and says how many matched.
SEARCH_MAX_MATCHES = env_int("SEARCH_MAX_MATCHES", 10_000)
# After a failed search the process searches the database for this long before trying the server again.
SEARCH_RETRY_AFTER_SECONDS = env_int("SEARCH_RETRY_AFTER_SECONDS", 30)
# The periodic catch-up compares appeals changed in this many past hours with the index.
SEARCH_CATCH_UP_HOURS = env_int("SEARCH_CATCH_UP_HOURS", 48)
ELASTICSEARCH_URL = SEARCH_URL
ELASTICSEARCH_INDEX_PREFIX = SEARCH_INDEX_PREFIX

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
# Lock a username only from the address the failures came from (one combined parameter, not two
# separate ones): a stranger guessing passwords cannot lock the real user out from their own desk.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Lock out the real client, resolved from trusted proxies only (config/proxies.py), never a header;
# the rate limits use the same address (appeals.portal.limits.client_address).
AXES_CLIENT_IP_CALLABLE = "config.proxies.client_ip"
AXES_RESET_ON_SUCCESS = True
# Administrators (superusers, admin-site users) must log in with a TOTP code (appeals/console/two_factor.py);
# other staff may opt in on /staff/2fa/.
TWO_FACTOR_REQUIRED_FOR_ADMINS = env_bool("TWO_FACTOR_REQUIRED_FOR_ADMINS", True)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "呼应 Huying")
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
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Attachments live outside the web root and are served only through permission-checked views.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(Path(os.environ.get("PRIVATE_MEDIA_ROOT", VAR_DIR / "private")))},
    },
    "staticfiles": {
        # Production: hashed, compressed names from `manage.py collectstatic`. The web process refuses to
        # start without the manifest and says what to run (config/static_check.py); code that renders
        # pages without starting it (a management command, a test) gets plain names (config/staticfiles.py).
        "BACKEND": (
            "config.staticfiles.CollectedStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
STATIC_COLLECTED = (STATIC_ROOT / "staticfiles.json").exists()
# In development (or before collectstatic) whitenoise serves straight from the app and static folders.
WHITENOISE_USE_FINDERS = DEBUG or not STATIC_COLLECTED
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
    # Swagger UI from drf-spectacular-sidecar's static files, not a CDN (/api/docs/ works offline).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
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

# No inline script or style anywhere (scripts live in static/js/): the policy allows only this site's
# own files, in development too, so a violation shows up before production. The Swagger UI page of
# the API (/api/docs/) loads its script from a CDN and is left out.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/docs/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

if not DEBUG:
    # `manage.py check --deploy` is clean with these (tests/config/test_deploy_settings.py). Each has an
    # environment switch for a deployment that terminates TLS differently.
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # HSTS: browsers use only HTTPS for a year. Preloading is a commitment for the whole domain;
    # SECURE_HSTS_PRELOAD=false leaves the domain out of browsers' preload lists.
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    X_FRAME_OPTIONS = "DENY"

# HTTPS as reported by a trusted proxy: config.proxies drops this header from anyone else.
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
# One line per request with the real client address (config.proxies.AccessLogMiddleware, logger
# huying.access). On in production (deploy/huying.env); uvicorn prints its own in development.
ACCESS_LOG = env_bool("ACCESS_LOG", False)

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
# A worker sending a delivery holds it this long; if it dies mid-send, the re-dispatch takes the row
# again after that (a re-sent e-mail carries the same Message-ID).
NOTIFY_CLAIM_SECONDS = env_int("NOTIFY_CLAIM_SECONDS", 300)
# Queue the delivery task right after commit (off: only the periodic re-dispatch delivers).
NOTIFY_KICK_DELIVERY = env_bool("NOTIFY_KICK_DELIVERY", True)
# Celery queue for the delivery tasks queued after commit (empty: Celery's default queue). A
# dedicated queue lets a separate worker serve notifications.
NOTIFY_TASK_QUEUE = os.environ.get("NOTIFY_TASK_QUEUE", "") or None
# Seconds a live presence entry ("viewing", "typing") lasts without a refresh from its browser.
NOTIFY_PRESENCE_TTL = env_int("NOTIFY_PRESENCE_TTL", 60)
# Keys that encrypt the access code in the confirmation e-mail's outbox row (notifications/sealing.py),
# newest first; older keys still decrypt, so rotate by prepending. Unset: SECRET_KEY (stretched with a
# purpose label). A sealed code no longer opens after OUTBOX_SEALED_MAX_AGE_SECONDS (default 7 days) and
# is wiped as soon as its e-mail is sent.
OUTBOX_SEALING_KEYS = env_list("OUTBOX_SEALING_KEYS", [SECRET_KEY])
OUTBOX_SEALED_MAX_AGE_SECONDS = env_int("OUTBOX_SEALED_MAX_AGE_SECONDS", 7 * 24 * 3600)
# Seconds between the bulk re-reads of every open websocket's access (per server process); logout,
# deactivation and bureau changes reach sockets at once anyway (notifications/access.py).
LIVE_ACCESS_RECHECK_SECONDS = float(os.environ.get("LIVE_ACCESS_RECHECK_SECONDS", "60"))


# The domain's own settings (deadlines, rates, routing, knowledge base, early warning) live beside this
# file so each part stays readable; they are plain settings all the same.
from config.settings.domain import *  # noqa: E402, F403
