"""A step rendered for one lead: the template context, and the subject, plain-text and branded HTML parts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.template import Context, Engine, TemplateSyntaxError
from django.template.loader import render_to_string
from django.utils.html import linebreaks, urlize
from django.utils.safestring import mark_safe

# Admins write step templates: a bare engine (built-in tags and filters only, no loaders, so no
# {% include %} of files), fed plain values only, never model instances whose attributes could leak.
_ENGINE = Engine(dirs=[], app_dirs=False, libraries={}, loaders=[], debug=False)
_BLANK_LINES = re.compile(r"\n{3,}")
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "AUD": "A$", "CAD": "C$"}


class TemplateError(Exception):
    """A step's subject or body does not compile or render."""


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


# What one rendered subject or body may weigh: Postmark refuses a message over 10 MB, and a 20-character
# `{% lorem 999999 w %}` renders 15 MB.
MAX_RENDERED_CHARS = 200_000


def _sample_context() -> dict[str, Any]:
    """The context of a mail to a sample lead about a sample listing, to try a template on."""
    lead = SimpleNamespace(
        pk=1, name="Ana Example", email="ana@example.com", status="new",
        attributes={"property_type": "house", "bedrooms": 3, "areas": ["Austin"], "budget_max": 500000},
    )  # fmt: skip
    organization = SimpleNamespace(
        name="Example Realty", slug="example", persona_name="Ava", persona_tone="friendly", greeting="Hi!",
        primary_color="#1f6feb", logo_url="",
    )  # fmt: skip
    listing = SimpleNamespace(
        pk=1, title="Sunny craftsman with a pool", price=Decimal("450000"), currency="USD", listing_type="sale",
        property_type="house", neighborhood="Hyde Park", city="Austin", bedrooms=3, bathrooms=Decimal(2),
        url="https://example.com/listings/1", images=["https://example.com/listings/1.jpg"],
    )  # fmt: skip
    return mail_context(
        lead=lead, organization=organization, listings=[listing], unsubscribe_url="https://example.com/unsubscribe/x/"
    )


def template_check(source: str) -> None:
    """Raise TemplateError when `source` is not a valid step template: it must compile and render.

    Rendered once on a sample lead: a tag that compiles but cannot render here ({% url %}, {% include %},
    {% extends %}: this engine has no URLs and no templates to load) failed every recipient's mail at
    send time, and the enrollment moved past the step for good.
    """
    try:
        template = _ENGINE.from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(str(exc)) from None
    try:
        rendered = template.render(Context(_sample_context(), autoescape=True))
    except Exception as exc:  # any failure of an admin's template is that template's error
        raise TemplateError(str(exc) or exc.__class__.__name__) from None
    if len(rendered) > MAX_RENDERED_CHARS:
        raise TemplateError(f"It renders {len(rendered):,} characters; a mail holds at most {MAX_RENDERED_CHARS:,}.")


def _render(source: str, context: dict[str, Any], *, autoescape: bool) -> str:
    try:
        return _ENGINE.from_string(source).render(Context(context, autoescape=autoescape))
    except Exception as exc:  # any failure of an admin's template is that template's error
        raise TemplateError(str(exc)) from exc


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip() + "\n"


def price_text(price: Decimal | None, currency: str, listing_type: str) -> str:
    if price is None:
        return ""
    amount = f"{price:,.0f}"
    symbol = CURRENCY_SYMBOLS.get((currency or "").upper())
    text = f"{symbol}{amount}" if symbol else f"{amount} {currency}".strip()
    return f"{text}/month" if listing_type == "rent" else text


def listing_context(prop) -> dict[str, Any]:
    place = ", ".join(part for part in (prop.neighborhood, prop.city) if part)
    return {
        "id": prop.pk,
        "title": prop.title,
        "price": price_text(prop.price, prop.currency, prop.listing_type),
        "place": place,
        "city": prop.city,
        "bedrooms": prop.bedrooms,
        "bathrooms": prop.bathrooms,
        "property_type": prop.property_type,
        "listing_type": prop.listing_type,
        "url": prop.url,
        "image": (prop.images or [""])[0],
    }


def criteria_text(attributes: dict[str, Any]) -> str:
    """What the lead is looking for, in words: "a house with 3+ bedrooms in Austin, up to $500,000"."""
    parts: list[str] = []
    kind = str(attributes.get("property_type") or "").strip()
    intent = attributes.get("intent")
    thing = kind or "home"
    parts.append(f"a {thing} to {'rent' if intent == 'rent' else 'buy'}" if intent else f"a {thing}")
    bedrooms = attributes.get("bedrooms")
    if isinstance(bedrooms, int | float) and bedrooms > 0:
        parts.append(f"with {int(bedrooms)}+ bedrooms")
    areas = attributes.get("areas")
    if isinstance(areas, str):
        areas = [areas]
    if isinstance(areas, list) and areas:
        parts.append("in " + " or ".join(str(area) for area in areas[:3]))
    text = " ".join(parts)
    budget = attributes.get("budget_max")
    if isinstance(budget, int | float) and budget > 0:
        text += f", up to ${budget:,.0f}"
    return "" if text == "a home" else text


def public_url(path: str) -> str:
    """An absolute URL on the public host (BASE_DOMAIN): unsubscribe links, the chat page."""
    scheme, port = settings.PUBLIC_URL_SCHEME, settings.PORT
    # The scheme's default port is left out, so that a production link reads https://example.com/….
    default_port = {"http": 80, "https": 443}.get(scheme)
    netloc = settings.BASE_DOMAIN if port == default_port else f"{settings.BASE_DOMAIN}:{port}"
    return f"{scheme}://{netloc}{path}"


def mail_context(*, lead, organization, listings: list, unsubscribe_url: str) -> dict[str, Any]:
    name = " ".join((lead.name or "").split())
    return {
        "lead": {
            "id": lead.pk,
            "name": name,
            "first_name": name.split(" ")[0] if name else "",
            "email": lead.email,
            "status": lead.status,
            "attributes": dict(lead.attributes or {}),
            "criteria": criteria_text(lead.attributes or {}),
        },
        "organization": {
            "name": organization.name,
            "slug": organization.slug,
            "persona_name": organization.persona_name,
            "persona_tone": organization.persona_tone,
            "greeting": organization.greeting,
            "primary_color": organization.primary_color,
            "logo_url": organization.logo_url,
            "chat_url": public_url(f"/chat/{organization.slug}"),
        },
        "listings": [listing_context(prop) for prop in listings],
        "unsubscribe_url": unsubscribe_url,
    }


def mail_render(*, subject: str, body: str, context: dict[str, Any]) -> RenderedMail:
    """The subject (one line), the plain-text part and the HTML part in the organization's brand."""
    subject_text = " ".join(_render(subject, context, autoescape=False).split())[:300]
    text = _tidy(_render(body, context, autoescape=False))
    # Escaped by the template itself, then links and paragraphs: urlize keeps what is already safe.
    escaped = _tidy(_render(body, context, autoescape=True))
    paragraphs = linebreaks(urlize(mark_safe(escaped.strip()), autoescape=True))  # noqa: S308  (escaped by the template)
    # Links in the brand's color (a validated #RRGGBB).
    color = context["organization"]["primary_color"]
    content = mark_safe(paragraphs.replace("<a href=", f'<a style="color:{color};" href='))  # noqa: S308
    html = render_to_string(
        "campaigns/email.html",
        {"subject": subject_text, "content": content, **context},
    )
    footer = (
        f"\n--\n{context['organization']['name']}\n"
        f"You receive this because you contacted us. Unsubscribe: {context['unsubscribe_url']}\n"
    )
    return RenderedMail(subject=subject_text, text=text + footer, html=html)
