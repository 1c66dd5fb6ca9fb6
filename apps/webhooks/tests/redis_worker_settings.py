"""Settings of the `dramatiq` worker processes started by the Redis tests: the test database, a private namespace."""

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES, DRAMATIQ_BROKER, env

# The database pytest-django created for this run, and a Redis namespace no other run uses.
DATABASES["default"]["NAME"] = env("OUTBOX_TEST_DATABASE")
DRAMATIQ_BROKER = {
    **DRAMATIQ_BROKER,
    "BROKER": "dramatiq.brokers.redis.RedisBroker",
    "OPTIONS": {"url": env("OUTBOX_TEST_REDIS_URL"), "namespace": env("OUTBOX_TEST_REDIS_NAMESPACE")},
}
JOBS_IN_PROCESS = False
