"""Test settings: the embedded PostgreSQL unless TEST_DATABASE_URL names another server."""

from .base import *  # noqa: F403
from .base import DATABASES, DRAMATIQ_BROKER, database_session_settings, env

if env("TEST_DATABASE_URL", default=""):
    DATABASES["default"].update(env.db("TEST_DATABASE_URL"))
    DATABASES["default"]["ENGINE"] = "apps.tenants.postgresql_backend"
    database_session_settings(DATABASES["default"])
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Several suites may run at once on one server (parallel sessions); each names its own database.
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default="test_realestate")}
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests run workers explicitly (the jobs_worker fixture), never a background one.
JOBS_IN_PROCESS_AUTOSTART = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

# The suite runs on the in-memory channel layer and broker whatever the environment says; tests of
# the Redis layer and broker build their own against REDIS_URL (default: the local server), the
# RabbitMQ broker test against TEST_RABBITMQ_URL (default: the local server).
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DRAMATIQ_BROKER = {**DRAMATIQ_BROKER, "BROKER": "dramatiq.brokers.stub.StubBroker", "OPTIONS": {}}
JOBS_IN_PROCESS = True
TEST_REDIS_URL = env("REDIS_URL", default="redis://localhost:6379")
TEST_RABBITMQ_URL = env("TEST_RABBITMQ_URL", default="amqp://guest:guest@localhost:5672")
