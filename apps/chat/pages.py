"""Visitor-facing pages of the public host: the widget loader (`/embed/<slug>.js`) and the full-page chat."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.cache import get_conditional_response, patch_cache_control

from apps.accounts.decorators import public_route
from apps.tenants.models import Organization, hex_color_validator
from apps.tenants.selectors import organization_get

JAVASCRIPT = "application/javascript; charset=utf-8"
WIDGET_STATIC_PATH = "chat/widget.min.js"
WIDGET_FILE = Path(__file__).resolve().parent / "static" / WIDGET_STATIC_PATH
# Agencies paste the loader once and keep it; a short cache lets brand or persona changes show
# within minutes while browsers still skip the request on every page of a visit.
LOADER_MAX_AGE = 300
NOT_FOUND_MAX_AGE = 60
DEFAULT_COLOR = "#2563eb"
# json.dumps leaves these as they are; escaped, the config cannot end a <script> element or a
# JS string literal early (U+2028/2029 were line terminators before ES2019).
_JS_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def widget_version() -> str:
    """A fingerprint of the built widget, appended to its URL so a new build is never served stale."""
    try:
        # Keyed on the file's mtime: hashed once per build, and a rebuild shows without a restart.
        return _fingerprint(WIDGET_FILE.stat().st_mtime_ns)
    except FileNotFoundError:
        return "missing"


@lru_cache(maxsize=4)
def _fingerprint(mtime_ns: int) -> str:
    return hashlib.sha256(WIDGET_FILE.read_bytes()).hexdigest()[:12]


def _brand_color(organization: Organization) -> str:
    # Validated when saved; checked again because it lands inside CSS and the page's style attribute.
    try:
        hex_color_validator(organization.primary_color)
    except ValidationError:
        return DEFAULT_COLOR
    return organization.primary_color


def widget_config(request: HttpRequest, organization: Organization, *, mode: str) -> dict:
    """What the widget needs: who it speaks for, its look, and where the websocket is.

    The websocket URL uses the host the loader was fetched from, so a script tag pasted on an
    agency's site (another origin) connects back to this platform, over wss when we are on https.
    """
    scheme = "wss" if request.is_secure() else "ws"
    return {
        "slug": organization.slug,
        "name": organization.name,
        "mode": mode,
        "wsUrl": f"{scheme}://{request.get_host()}/ws/chat/{organization.slug}/",
        "baseUrl": request.build_absolute_uri("/"),
        "widgetUrl": request.build_absolute_uri(f"{static(WIDGET_STATIC_PATH)}?v={widget_version()}"),
        "primaryColor": _brand_color(organization),
        "logoUrl": organization.logo_url,
        "personaName": organization.persona_name,
        "greeting": organization.greeting,
    }


def _js_json(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).translate(_JS_ESCAPES)


@public_route
def embed_loader(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = organization_get(slug=org_slug)
    if organization is None:
        # Still JavaScript: a script tag with a wrong slug logs nothing worse than a 404.
        response = HttpResponse(f"/* No organization '{org_slug}' on this platform. */\n", status=404)
        response["Content-Type"] = JAVASCRIPT
        patch_cache_control(response, public=True, max_age=NOT_FOUND_MAX_AGE)
        return response
    body = render_to_string(
        "chat/embed_loader.js",
        {
            "slug": organization.slug,
            "loader_url": request.build_absolute_uri(),
            "config_json": _js_json(widget_config(request, organization, mode="widget")),
        },
    )
    etag = '"' + hashlib.sha256(body.encode("utf-8")).hexdigest()[:32] + '"'
    response = get_conditional_response(request, etag=etag) or HttpResponse(body)
    response["Content-Type"] = JAVASCRIPT
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=LOADER_MAX_AGE)
    # Loaded by <script> tags on other sites: let pages with COEP/CORP policies load it too.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@public_route
def chat_page(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = organization_get(slug=org_slug)
    if organization is None:
        raise Http404(f"No organization '{org_slug}'.")
    context = {
        "organization": organization,
        "primary_color": _brand_color(organization),
        "widget_config": widget_config(request, organization, mode="page") | {"containerId": "rea-chat-page"},
        "widget_url": f"{static(WIDGET_STATIC_PATH)}?v={widget_version()}",
    }
    return render(request, "chat/page.html", context)
