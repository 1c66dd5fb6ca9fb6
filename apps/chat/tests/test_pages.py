"""The visitor-facing pages: the widget loader's contract, the full-page chat, 404s and the widget's build."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import resolve

from apps.chat import pages
from apps.core.checks import tenant_views_declare_access

ROOT = Path(__file__).resolve().parents[3]
PUBLIC_HOST = "localhost"
CONFIG_RE = re.compile(r"var config = (\{.*?\});\n", re.DOTALL)


def public_client(**extra) -> Client:
    return Client(HTTP_HOST=PUBLIC_HOST, **extra)


def loader_config(body: str) -> dict:
    match = CONFIG_RE.search(body)
    assert match, body
    return json.loads(match.group(1))


def load_build_module():
    spec = importlib.util.spec_from_file_location("widget_build", ROOT / "frontend_widget" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the loader -------------------------------------------------------------------------------------


def test_loader_is_javascript_with_the_organizations_config(org):
    org.primary_color = "#0f766e"
    org.persona_name = "Ava"
    org.greeting = "Hi, I'm Ava 👋 Buying or renting?"
    org.logo_url = "https://cdn.acme.test/logo.png"
    org.save()

    response = public_client().get("/embed/acme.js")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert "max-age=300" in response["Cache-Control"] and "public" in response["Cache-Control"]
    assert response["ETag"]
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    config = loader_config(response.content.decode())
    assert config["slug"] == "acme"
    assert config["name"] == "Acme Realty"
    assert config["mode"] == "widget"
    assert config["wsUrl"] == "ws://localhost/ws/chat/acme/"
    assert config["baseUrl"] == "http://localhost/"
    assert config["primaryColor"] == "#0f766e"
    assert config["personaName"] == "Ava"
    assert config["greeting"] == "Hi, I'm Ava 👋 Buying or renting?"
    assert config["logoUrl"] == "https://cdn.acme.test/logo.png"
    assert config["widgetUrl"] == f"http://localhost/static/chat/widget.min.js?v={pages.widget_version()}"


def test_loader_builds_the_websocket_url_from_the_requests_host_and_scheme(org, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "chat.platform.test"]
    response = public_client().get("/embed/acme.js", HTTP_HOST="chat.platform.test:8443", secure=True)

    config = loader_config(response.content.decode())
    assert config["wsUrl"] == "wss://chat.platform.test:8443/ws/chat/acme/"
    assert config["widgetUrl"].startswith("https://chat.platform.test:8443/static/chat/widget.min.js?v=")


def test_loader_answers_not_modified_to_its_own_etag(org):
    client = public_client()
    first = client.get("/embed/acme.js")

    again = client.get("/embed/acme.js", HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert again.content == b""


def test_loader_text_cannot_break_out_of_the_script(org):
    org.greeting = "</script><img src=x onerror=alert(1)> & \u2028"
    org.persona_name = '"; alert(1); //'
    org.save()

    body = public_client().get("/embed/acme.js").content.decode()

    config_text = CONFIG_RE.search(body).group(1)
    assert "<" not in config_text and ">" not in config_text and "\u2028" not in config_text
    config = loader_config(body)
    assert config["greeting"] == "</script><img src=x onerror=alert(1)> & \u2028"
    assert config["personaName"] == '"; alert(1); //'


def test_loader_for_an_unknown_organization_is_a_javascript_404(db):
    response = public_client().get("/embed/nobody-here.js")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    body = response.content.decode().strip()
    assert body.startswith("/*") and body.endswith("*/")
    assert "nobody-here" in body


def test_loader_does_not_serve_the_public_tenant(db):
    assert public_client().get("/embed/public.js").status_code == 404


def test_loader_is_only_on_the_public_host(org):
    # An organization's own host serves its API; the loader lives on the platform's host.
    assert Client(HTTP_HOST=org.host).get("/embed/acme.js").status_code == 404


# --- the full-page chat -----------------------------------------------------------------------------


def test_chat_page_is_in_the_organizations_brand(org):
    org.primary_color = "#7c3aed"
    org.persona_name = "Max"
    org.greeting = "Hello from Max!"
    org.logo_url = "https://cdn.acme.test/logo.png"
    org.save()

    response = public_client().get("/chat/acme")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Chat with Max · Acme Realty</title>" in html
    assert 'style="--brand: #7c3aed"' in html
    assert '<meta name="theme-color" content="#7c3aed">' in html
    assert 'name="viewport"' in html
    assert "https://cdn.acme.test/logo.png" in html
    assert f'<script src="/static/chat/widget.min.js?v={pages.widget_version()}" defer></script>' in html
    assert '<link rel="stylesheet" href="/static/chat/page.css">' in html
    # Everything comes from our own static files: no CDN.
    assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', html)
    config = json.loads(
        re.search(r'<script id="rea-chat-config" type="application/json">(.*?)</script>', html).group(1)
    )
    assert config["mode"] == "page"
    assert config["containerId"] == "rea-chat-page"
    assert config["wsUrl"] == "ws://localhost/ws/chat/acme/"
    assert (config["personaName"], config["greeting"], config["primaryColor"]) == ("Max", "Hello from Max!", "#7c3aed")
    assert 'id="rea-chat-page"' in html


def test_chat_page_accepts_a_trailing_slash(org):
    assert public_client().get("/chat/acme/").status_code == 200


def test_chat_page_escapes_the_organizations_text(org):
    org.name = "<b>Acme</b>"
    org.greeting = "</script><script>alert(1)</script>"
    org.save()

    html = public_client().get("/chat/acme").content.decode()

    assert "<b>Acme</b>" not in html
    assert "<script>alert(1)</script>" not in html


def test_chat_page_for_an_unknown_organization_is_a_404_page(db):
    response = public_client().get("/chat/nobody-here")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Page not found" in response.content


def test_routes_are_public_on_purpose():
    assert resolve("/embed/acme.js", urlconf="config.urls_public").func is pages.embed_loader
    assert resolve("/chat/acme", urlconf="config.urls_public").func is pages.chat_page
    assert pages.embed_loader.access_rule == "public"
    assert pages.chat_page.access_rule == "public"
    assert tenant_views_declare_access() == []


# --- the widget's build -----------------------------------------------------------------------------


def test_built_widget_is_small_and_up_to_date():
    build = load_build_module()
    built = pages.WIDGET_FILE.read_text(encoding="utf-8")

    assert len(built.encode("utf-8")) <= 30 * 1024
    assert built == build.build(), "apps/chat/static/chat/widget.min.js is stale: run python frontend_widget/build.py"


@pytest.mark.parametrize("sink", ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("])
def test_widget_never_parses_text_as_html(sink):
    # Server and visitor text goes through textContent only (XSS); a guard against regressions.
    # The built file is checked: it is the source without its comments (which may name the sinks).
    assert sink not in pages.WIDGET_FILE.read_text(encoding="utf-8")
