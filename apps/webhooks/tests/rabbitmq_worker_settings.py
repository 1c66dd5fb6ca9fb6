"""Settings of the `dramatiq` worker process started by the RabbitMQ test: the test database, private queue names."""

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES, DRAMATIQ_BROKER, env

# RabbitMQ has no namespaces: every actor this worker declares gets the run's own queue prefix (the
# product's DRAMATIQ_QUEUE_PREFIX), so it consumes only the queues of the test that started it.
DRAMATIQ_QUEUE_PREFIX = env("OUTBOX_TEST_QUEUE_PREFIX")


# The database pytest-django created for this run, and the RabbitMQ server of the test.
DATABASES["default"]["NAME"] = env("OUTBOX_TEST_DATABASE")
DRAMATIQ_BROKER = {
    **DRAMATIQ_BROKER,
    "BROKER": "dramatiq.brokers.rabbitmq.RabbitmqBroker",
    "OPTIONS": {"url": env("OUTBOX_TEST_RABBITMQ_URL")},
}
JOBS_IN_PROCESS = False
