"""Middleware that must run before tenant resolution: /healthz answers on any host, known or not."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apps.core.views import healthz


class HealthzMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Load balancers probe by IP or by any host name; neither should depend on tenant lookup.
        if request.path in ("/healthz", "/healthz/"):
            return healthz(request)
        return self.get_response(request)
