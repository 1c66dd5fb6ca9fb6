"""Shared counters and the client's address: what every per-IP and per-visitor limit stands on."""

from __future__ import annotations

from django.test import RequestFactory

from apps.core.ratelimit import counter_increment, counter_value, rate_limit_hit, request_client_ip, scope_client_ip


def test_counter_counts_within_its_window():
    assert counter_value("k") == 0
    assert [counter_increment("k", 60) for _ in range(3)] == [1, 2, 3]
    assert counter_value("k") == 3


def test_rate_limit_allows_then_answers_the_wait():
    assert rate_limit_hit("visitor-1", "2/m") is None
    assert rate_limit_hit("visitor-1", "2/m") is None
    wait = rate_limit_hit("visitor-1", "2/m")
    assert wait is not None and 1 <= wait <= 60
    assert rate_limit_hit("visitor-2", "2/m") is None  # another key has its own count


def test_forwarded_for_is_ignored_unless_we_run_the_proxy(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.0.0.9")
    scope = {"client": ("10.0.0.9", 5000), "headers": [(b"x-forwarded-for", b"1.2.3.4")]}
    settings.USE_X_FORWARDED_FOR = False
    # A client could send any X-Forwarded-For to dodge per-IP limits: the socket's peer counts.
    assert request_client_ip(request) == "10.0.0.9" and scope_client_ip(scope) == "10.0.0.9"
    settings.USE_X_FORWARDED_FOR = True
    assert request_client_ip(request) == "1.2.3.4" and scope_client_ip(scope) == "1.2.3.4"
