"""Settings shared by every environment, all read from the environment (or .env) with django-environ."""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- core -------------------------------------------------------------------------------------
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-dev-key-change-me-in-production-0123456789")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
BASE_DOMAIN = env("BASE_DOMAIN", default="localhost")
PUBLIC_URL_SCHEME = env("PUBLIC_URL_SCHEME", default="http")
PORT = env.int("PORT", default=8000)
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=[BASE_DOMAIN, f".{BASE_DOMAIN}", "localhost", ".localhost", "127.0.0.1", "[::1]"],
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- apps: django-tenants splits them into the public schema and each organization's schema ---
SHARED_APPS = [
    "django_tenants",
    "apps.core",
    "apps.tenants",
    "apps.accounts",
    "apps.billing",
    # Meta's page/account id → organization routing and the raw webhook events: the public host needs them.
    "apps.socialrouting",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "django_filters",
    "channels",
    "django_dramatiq",
    # django-anymail: the Postmark backend and its tracking webhook view (no models).
    "anymail",
    "django_htmx",
    # Public-host signup and the five-step wizard; its progress row lives next to the organization.
    "apps.onboarding",
]
TENANT_APPS = [
    "apps.events",
    "apps.properties",
    "apps.leads",
    "apps.webhooks",
    "apps.chat",
    "apps.social",
    "apps.analytics",
    "apps.dashboard",
    "apps.campaigns",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Organization"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
# pgvector and pg_trgm live in their own schema that every tenant's search_path reaches.
PG_EXTRA_SEARCH_PATHS = ["extensions"]
# django-tenants would query the database at start-up (Django warns about it in every command) to check
# that no tenant owns a schema on that path; `extensions` is a reserved slug (apps.tenants.models), and
# apps/tenants/tests/test_schema_safety.py checks that no organization can be created with it.
SKIP_PG_EXTRA_VALIDATION = True
# New schemas are built from a migrated template schema (apps.tenants.provisioning).
TENANT_TEMPLATE_SCHEMA = "tenant_template"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# Send `SET search_path` only when the schema changes, not before every query: it halves the queries
# of a chat turn or a webhook delivery. Safe on django-tenants 4.0.1, which forgets the cached path
# on ROLLBACK and ROLLBACK TO SAVEPOINT (both undo a SET; its issue #1262) and on close; our backend
# (apps.tenants.postgresql_backend, the ENGINE below) also keeps it across entering the same schema
# again. apps/tenants/tests/test_schema_safety.py holds both to that.
TENANT_LIMIT_SET_CALLS = True

MIDDLEWARE = [
    "apps.core.middleware.HealthzMiddleware",
    "apps.tenants.middleware.OrganizationMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls_tenant"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ASGI_APPLICATION = "asgi.application"

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
            ],
        },
    },
]

# --- database -----------------------------------------------------------------------------------
# No DATABASE_URL: start (or attach to) the embedded PostgreSQL with pgvector in .pgdata/.
EMBEDDED_PGDATA = Path(env("EMBEDDED_PGDATA", default=str(BASE_DIR / ".pgdata")))
if env("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    EMBEDDED_DATABASE = False
else:
    from config.embedded_db import ensure_database

    DATABASES = {"default": env.db_url_config(ensure_database(EMBEDDED_PGDATA))}
    EMBEDDED_DATABASE = True
# pg_trgm's word similarity a listing's text needs with a query word for the search's typo-tolerant
# match (`%>`): 0.5, not pg_trgm's 0.6, which misses one-letter typos in short words ("balcny" ~
# "balcony" is 0.57). Every connection starts with it (libpq `options`: no extra round trip), so a
# search can run as one statement.
SEARCH_TRIGRAM_THRESHOLD = 0.5
# The hot path's hand-written statements (apps/core/sql.bound_rows: a search, a chat turn's reads)
# are prepared: a connection parses and plans each once. Django switches psycopg's prepared statements
# off unless OPTIONS names a threshold; a threshold no query reaches keeps them to the statements that
# ask (Django's own queries bind on the client and are never prepared). Off (false) for a pooler that
# cannot keep prepared statements per connection.
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
# Seconds to establish a connection. libpq waits forever by default: a server that accepts and never
# answers (a hung host, a half-open proxy) hung every request, /healthz included, instead of failing.
DATABASE_CONNECT_TIMEOUT = env.int("DATABASE_CONNECT_TIMEOUT", default=5)


def database_session_settings(config: dict) -> dict:
    """Add the session settings above to a DATABASES entry's connection options (idempotent)."""
    options = config.setdefault("OPTIONS", {})
    options.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
    if DATABASE_PREPARED_STATEMENTS:
        options.setdefault("prepare_threshold", 2**31 - 1)
    setting = f"-c pg_trgm.word_similarity_threshold={SEARCH_TRIGRAM_THRESHOLD}"
    if setting not in options.get("options", ""):
        options["options"] = f"{options.get('options', '')} {setting}".strip()
    return config


database_session_settings(DATABASES["default"])
DATABASES["default"]["ENGINE"] = "apps.tenants.postgresql_backend"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis, channels ------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
# redis-py 8 gives up on any read after 5 s (its default socket_timeout), and channels-redis waits
# for a consumer's next message with a blocking pop of up to 5 s (brpop_timeout): at that default,
# every socket whose consumer heard nothing for 5 s died ("Timeout reading from …", close 1011).
CHANNEL_LAYER_SOCKET_TIMEOUT = env.float("CHANNEL_LAYER_SOCKET_TIMEOUT", default=30.0)


def channel_layers(redis_url: str, prefix: str = "asgi") -> dict:
    """The channel layer: Redis at `redis_url` (shared by every process), else in this process's memory."""
    if not redis_url:
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    host = {"address": redis_url, "socket_timeout": CHANNEL_LAYER_SOCKET_TIMEOUT}
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [host], "prefix": prefix},
        }
    }


CHANNEL_LAYERS = channel_layers(REDIS_URL, env("CHANNEL_LAYER_PREFIX", default="asgi"))

# --- background jobs (Dramatiq) -------------------------------------------------------------------
# BROKER_URL (default REDIS_URL): redis:// → Redis, amqp:// → RabbitMQ; empty → an in-memory
# broker drained by a worker thread inside the web process (the embedded default of `make run`).
BROKER_URL = env("BROKER_URL", default=REDIS_URL)
if BROKER_URL.startswith("amqp"):
    _broker, _broker_options = "dramatiq.brokers.rabbitmq.RabbitmqBroker", {"url": BROKER_URL}
elif BROKER_URL.startswith(("redis://", "rediss://", "unix://")):
    _broker, _broker_options = "dramatiq.brokers.redis.RedisBroker", {"url": BROKER_URL}
elif not BROKER_URL:
    _broker, _broker_options = "dramatiq.brokers.stub.StubBroker", {}
else:
    raise environ.ImproperlyConfigured(
        f"BROKER_URL must start with redis://, rediss:// or amqp:// (got {BROKER_URL!r})"
    )
JOBS_IN_PROCESS = _broker.endswith("StubBroker")
JOBS_IN_PROCESS_THREADS = env.int("JOBS_IN_PROCESS_THREADS", default=4)
DRAMATIQ_BROKER = {
    "BROKER": _broker,
    "OPTIONS": _broker_options,
    "MIDDLEWARE": [
        "apps.core.jobs.QueuePrefix",
        "dramatiq.middleware.AgeLimit",
        "dramatiq.middleware.TimeLimit",
        "dramatiq.middleware.Callbacks",
        "dramatiq.middleware.Retries",
        "django_dramatiq.middleware.DbConnectionsMiddleware",
        "apps.core.jobs.TenantMiddleware",
    ],
}
DRAMATIQ_AUTODISCOVER_MODULES = ["actors"]
DRAMATIQ_QUEUE_PREFIX = env("DRAMATIQ_QUEUE_PREFIX", default="")

# --- cache (rate limits, the catalog's cities) ----------------------------------------------------
# Shared through Redis when there is one, so limits hold across web processes.


def cache_settings(redis_url: str) -> dict:
    """The cache: Redis at `redis_url` through one pool and one client per process, else this process's memory."""
    if not redis_url:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return {
        "default": {
            "BACKEND": "apps.core.cache.RedisCache",
            "LOCATION": redis_url,
        }
    }


CACHES = cache_settings(REDIS_URL)

# --- auth ---------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The dashboard's own login on each organization's host (sessions are per host).
LOGIN_URL = "/dashboard/login/"
# Failed logins allowed per address within the window (seconds); per IP, four times as many.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=900)
PASSWORD_RESET_RATE_EMAIL = env("PASSWORD_RESET_RATE_EMAIL", default="3/h")
PASSWORD_RESET_RATE_IP = env("PASSWORD_RESET_RATE_IP", default="20/h")
# Seconds the one-time login link from the end of onboarding to the new dashboard stays valid.
ONBOARDING_LOGIN_LINK_MAX_AGE = env.int("ONBOARDING_LOGIN_LINK_MAX_AGE", default=300)
DJANGO_SUPERUSER_EMAIL = env("DJANGO_SUPERUSER_EMAIL", default="")
DJANGO_SUPERUSER_PASSWORD = env("DJANGO_SUPERUSER_PASSWORD", default="")
API_KEY_CUSTOM_HEADER = None  # Authorization: Api-Key <key>

# --- i18n, static -------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # The API key comes first so that an unauthenticated request gets 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.OrganizationAPIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Deny by default: an endpoint that says nothing is for the organization's members only. Every
    # role class also refuses writes while the subscription is canceled (apps/accounts/permissions.py).
    "DEFAULT_PERMISSION_CLASSES": ["apps.accounts.permissions.IsOrgMember"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_standardized_errors.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
DRF_STANDARDIZED_ERRORS = {
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    "EXCEPTION_HANDLER_CLASS": "apps.core.exception_handler.ExceptionHandler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Real-estate assistant API",
    "DESCRIPTION": (
        "The REST API of one organization, served on its own host `<slug>.<BASE_DOMAIN>`. "
        "Authenticate with `Authorization: Api-Key <key>` (create one with "
        "`python manage.py create_api_key <slug> --name <name>`) or the dashboard's session."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the vendored sidecar package: the docs work with no CDN and no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "ENUM_NAME_OVERRIDES": {
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        "ErrorCode401Enum": "drf_standardized_errors.openapi_serializers.ErrorCode401Enum.choices",
        "ErrorCode403Enum": "drf_standardized_errors.openapi_serializers.ErrorCode403Enum.choices",
        "ErrorCode404Enum": "drf_standardized_errors.openapi_serializers.ErrorCode404Enum.choices",
        "ErrorCode405Enum": "drf_standardized_errors.openapi_serializers.ErrorCode405Enum.choices",
        "ErrorCode406Enum": "drf_standardized_errors.openapi_serializers.ErrorCode406Enum.choices",
        "ErrorCode415Enum": "drf_standardized_errors.openapi_serializers.ErrorCode415Enum.choices",
        "ErrorCode429Enum": "drf_standardized_errors.openapi_serializers.ErrorCode429Enum.choices",
        "ErrorCode500Enum": "drf_standardized_errors.openapi_serializers.ErrorCode500Enum.choices",
        "SocialAccountStatusEnum": "apps.social.models.AccountStatus.choices",
        # Several resources have a `status`: each enum keeps its resource's name in generated clients.
        "LeadStatusEnum": "apps.leads.models.LeadStatus.choices",
        "ConversationStatusEnum": "apps.chat.models.ConversationStatus.choices",
        "CampaignStatusEnum": "apps.campaigns.models.CampaignStatus.choices",
        "WebhookDeliveryStatusEnum": "apps.webhooks.models.DeliveryStatus.choices",
    },
    "POSTPROCESSING_HOOKS": ["drf_standardized_errors.openapi_hooks.postprocess_schema_enums"],
    # Each operation lists its own authentication (apps/accounts/schema.py describes the API key).
}

# --- platform -----------------------------------------------------------------------------------
TRIAL_DAYS = env.int("TRIAL_DAYS", default=14)
STRIPE_PRICE_STARTER = env("STRIPE_PRICE_STARTER", default="")
STRIPE_PRICE_PRO = env("STRIPE_PRICE_PRO", default="")
STRIPE_PRICE_AGENCY = env("STRIPE_PRICE_AGENCY", default="")
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
# Days a past_due subscription keeps AI replies running before they pause.
BILLING_GRACE_DAYS = env.int("BILLING_GRACE_DAYS", default=7)
OPENAI_API_KEY = env("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env("OPENAI_BASE_URL", default="")
OPENAI_MODEL = env("OPENAI_MODEL", default="gpt-4o-mini")
# Seconds: the whole reply may take OPENAI_TIMEOUT (checked as each piece arrives; one read may take
# as long again); connecting may take OPENAI_CONNECT_TIMEOUT.
OPENAI_TIMEOUT = env.float("OPENAI_TIMEOUT", default=60.0)
OPENAI_CONNECT_TIMEOUT = env.float("OPENAI_CONNECT_TIMEOUT", default=5.0)
# Longest visitor message accepted, in characters.
CHAT_MAX_MESSAGE_CHARS = env.int("CHAT_MAX_MESSAGE_CHARS", default=2000)
EMBEDDING_PROVIDER = env("EMBEDDING_PROVIDER", default="hashing")
EMBEDDING_MODEL = env("EMBEDDING_MODEL", default="text-embedding-3-small")
VECTOR_DIMENSIONS = env.int("VECTOR_DIMENSIONS", default=384)
# Largest listings file POST /api/v1/properties/import/ accepts (bytes); bigger answers 413.
PROPERTY_IMPORT_MAX_BYTES = env.int("PROPERTY_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
# Region assumed for lead phone numbers written without a country code (ISO 3166 alpha-2).
PHONE_DEFAULT_REGION = env("PHONE_DEFAULT_REGION", default="US")
POSTMARK_API_TOKEN = env("POSTMARK_API_TOKEN", default="")
POSTMARK_FROM_EMAIL = env("POSTMARK_FROM_EMAIL", default="assistant@localhost")
POSTMARK_API_URL = env("POSTMARK_API_URL", default="")
# Postmark message stream of campaign mail (empty: the server's default transactional stream).
POSTMARK_MESSAGE_STREAM = env("POSTMARK_MESSAGE_STREAM", default="")
DEFAULT_FROM_EMAIL = POSTMARK_FROM_EMAIL
# Mail goes through Postmark (django-anymail) when a token is set; local.py and test.py pick their own.
# (An empty EMAIL_BACKEND= line, as in .env.example, means "the default" too.)
EMAIL_BACKEND = env("EMAIL_BACKEND", default="") or (
    "anymail.backends.postmark.EmailBackend" if POSTMARK_API_TOKEN else "django.core.mail.backends.console.EmailBackend"
)
ANYMAIL = {
    "POSTMARK_SERVER_TOKEN": POSTMARK_API_TOKEN,
    # "user:pass" of the tracking webhook's basic auth (https://user:pass@<BASE_DOMAIN>/anymail/postmark/tracking/);
    # empty: the webhook refuses every call.
    "WEBHOOK_SECRET": env("ANYMAIL_WEBHOOK_SECRET", default=""),
    # Seconds one call to the provider may take.
    "REQUESTS_TIMEOUT": env.float("EMAIL_PROVIDER_TIMEOUT", default=15.0),
}
if POSTMARK_API_URL:
    ANYMAIL["POSTMARK_API_URL"] = POSTMARK_API_URL
if POSTMARK_MESSAGE_STREAM:
    ANYMAIL["POSTMARK_MESSAGE_STREAM"] = POSTMARK_MESSAGE_STREAM
# Seconds between periodic email runs (due sequence steps, stalled blasts) per organization.
EMAIL_SEQUENCE_INTERVAL = env.int("EMAIL_SEQUENCE_INTERVAL", default=60)
# Blasts go out in batches of EMAIL_BLAST_BATCH_SIZE, at most EMAIL_BLAST_RATE_PER_MINUTE mails a minute
# per campaign.
EMAIL_BLAST_BATCH_SIZE = env.int("EMAIL_BLAST_BATCH_SIZE", default=50)
EMAIL_BLAST_RATE_PER_MINUTE = env.int("EMAIL_BLAST_RATE_PER_MINUTE", default=300)
FACEBOOK_APP_ID = env("FACEBOOK_APP_ID", default="")
FACEBOOK_APP_SECRET = env("FACEBOOK_APP_SECRET", default="")
FACEBOOK_VERIFY_TOKEN = env("FACEBOOK_VERIFY_TOKEN", default="")
FACEBOOK_GRAPH_URL = env("FACEBOOK_GRAPH_URL", default="https://graph.facebook.com/v21.0")
# Seconds one Graph API call may take (connecting: at most 5 of them).
FACEBOOK_GRAPH_TIMEOUT = env.float("FACEBOOK_GRAPH_TIMEOUT", default=10.0)
# Agents' replies later than 24 h after the person's last message go out with Meta's HUMAN_AGENT tag
# (up to 7 days); needs the Human Agent permission approved for the app.
FACEBOOK_HUMAN_AGENT_TAG = env.bool("FACEBOOK_HUMAN_AGENT_TAG", default=False)
# Days of conversations backfilled when a page or Instagram account is connected.
FACEBOOK_SYNC_DAYS = env.int("FACEBOOK_SYNC_DAYS", default=30)
# Seconds between sweeps that re-queue Meta messages and replies whose job was lost.
FACEBOOK_SWEEP_INTERVAL = env.int("FACEBOOK_SWEEP_INTERVAL", default=60)
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", default="")
WEBHOOK_SIGNING_SECRET = env("WEBHOOK_SIGNING_SECRET", default="")
N8N_WEBHOOK_URL = env("N8N_WEBHOOK_URL", default="")
WEBHOOK_RETRY_SCHEDULE = env.list(
    "WEBHOOK_RETRY_SCHEDULE", cast=int, default=[5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
)
WEBHOOK_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", default=False)
# One request's limit (the contract's 10 s), and how much of a response body is read (the rest is dropped).
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10.0)
WEBHOOK_RESPONSE_MAX_BYTES = env.int("WEBHOOK_RESPONSE_MAX_BYTES", default=16384)
# An endpoint failing this many days in a row is disabled with a reason.
WEBHOOK_DISABLE_AFTER_DAYS = env.int("WEBHOOK_DISABLE_AFTER_DAYS", default=5)
# The outbox sweep runs every INTERVAL seconds per organization and re-queues deliveries overdue by
# more than GRACE seconds (their message was lost: a restart of the in-memory broker, a killed worker).
WEBHOOK_SWEEP_INTERVAL = env.int("WEBHOOK_SWEEP_INTERVAL", default=15)
WEBHOOK_SWEEP_GRACE = env.int("WEBHOOK_SWEEP_GRACE", default=60)
# Believe the client address in X-Forwarded-For (only behind a proxy we run that sets it); otherwise
# a client could forge it and dodge every per-IP limit.
USE_X_FORWARDED_FOR = env.bool("USE_X_FORWARDED_FOR", default=False)
CHAT_RATE_LIMIT_VISITOR = env("CHAT_RATE_LIMIT_VISITOR", default="20/m")
CHAT_RATE_LIMIT_IP = env("CHAT_RATE_LIMIT_IP", default="120/m")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "pgserver": {"level": "WARNING"}},
}
# Start the in-process worker (and periodic work) with the web process when the broker is in-memory.
JOBS_IN_PROCESS_AUTOSTART = env.bool("JOBS_IN_PROCESS_AUTOSTART", default=JOBS_IN_PROCESS)
