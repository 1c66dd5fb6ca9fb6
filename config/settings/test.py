"""Test settings: the embedded PostgreSQL unless TEST_DATABASE_URL names another server."""

from .base import *  # noqa: F403
from .base import DATABASES, env

if env("TEST_DATABASE_URL", default=""):
    DATABASES["default"].update(env.db("TEST_DATABASE_URL"))
    DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES["default"]["CONN_MAX_AGE"] = 0
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
