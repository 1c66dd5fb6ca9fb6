"""The one client of the chat model: OpenAI-compatible streaming with a key, the offline responder without one.

Both take the same `TurnContext` (persona, history, retrieved listings, what the visitor asked)
and stream text pieces; neither touches the database. The OpenAI SDK itself is behind apps/core/openai_client.py.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings

from apps.core import openai_client


class LLMUnavailable(Exception):
    """The model could not answer (refused connection, timeout, error, or a stream cut short)."""


@dataclass(frozen=True)
class Listing:
    """What the assistant may say about one listing; the prompt refers to it as [number]."""

    number: int
    id: int
    title: str
    property_type: str
    listing_type: str
    price: Decimal
    currency: str
    bedrooms: int | None
    bathrooms: Decimal | None
    area_sqm: Decimal | None
    neighborhood: str
    city: str
    features: tuple[str, ...]
    url: str
    image: str | None
    summary: str


@dataclass
class TurnContext:
    organization_name: str
    persona_name: str
    persona_tone: str
    persona_instructions: str
    greeting: str
    user_text: str
    history: list[dict[str, str]]  # [{"role": "user"|"assistant", "content": ...}], oldest first
    listings: list[Listing]
    criteria: dict[str, Any]  # the hard filters understood so far (city, max_price, …)
    has_contact: bool
    contact_name: str = ""
    just_shared_contact: bool = False
    is_greeting_only: bool = False


@dataclass
class StreamStats:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ChatModel(Protocol):
    def stream(
        self, context: TurnContext, stats: StreamStats, on_sent: Callable[[], None] | None = None
    ) -> AsyncIterator[str]:
        """The reply's text pieces. `on_sent` is called once the request is on its way to the model."""
        ...


# --- formatting shared by the prompt and the offline responder --------------------------------------

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "MXN": "MX$"}


def format_price(price: Decimal, currency: str, listing_type: str) -> str:
    symbol = CURRENCY_SYMBOLS.get(currency.upper(), f"{currency.upper()} ")
    amount = f"{symbol}{price:,.0f}"
    return f"{amount}/month" if listing_type == "rent" else amount


def listing_line(listing: Listing) -> str:
    parts = [format_price(listing.price, listing.currency, listing.listing_type)]
    if listing.bedrooms:
        parts.append(f"{listing.bedrooms} bd")
    if listing.bathrooms:
        parts.append(f"{listing.bathrooms.normalize():f} ba")
    if listing.area_sqm:
        parts.append(f"{listing.area_sqm:,.0f} m²")
    place = ", ".join(part for part in (listing.neighborhood, listing.city) if part)
    return f"[{listing.number}] {listing.title} — {' · '.join(parts)} — {place}"


# --- OpenAI-compatible model ----------------------------------------------------------------------


def system_prompt(context: TurnContext) -> str:
    catalog = (
        "\n".join(f"{listing_line(listing)}\n    {listing.summary}" for listing in context.listings)
        or "(no listing matches the visitor's criteria)"
    )
    criteria = ", ".join(f"{key}={value}" for key, value in context.criteria.items()) or "none yet"
    return (
        f"You are {context.persona_name}, the assistant of the real-estate agency {context.organization_name}. "
        f"Tone: {context.persona_tone}.\n"
        f"{context.persona_instructions}\n\n"
        "Rules:\n"
        "- Recommend ONLY listings from the catalog below and refer to each one you present by its marker, "
        "e.g. [1]. Never invent listings, prices, addresses or features.\n"
        "- If nothing matches, say so honestly and suggest how to widen the search.\n"
        "- Ask for missing criteria (area, budget, bedrooms, buy or rent) when useful.\n"
        + (
            "- The visitor has not left contact details: when they show interest, ask for a name and an email "
            "or phone so an agent can follow up.\n"
            if not context.has_contact
            else "- The visitor's contact details are known; do not ask for them again.\n"
        )
        + "- Be concise: at most three listings, a few sentences.\n\n"
        f"Criteria understood so far: {criteria}\n\nCatalog:\n{catalog}"
    )


# The turn's callback for "the request has left": the SDK gives no such hook, httpcore's trace does.
_on_request_sent: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "on_request_sent", default=None
)


async def _trace_request_sent(request) -> None:
    """httpx request hook: ask httpcore to tell us when the request's body has been written."""
    callback = _on_request_sent.get()
    if callback is None:
        return

    async def trace(event: str, info: dict[str, Any]) -> None:
        if event.endswith("send_request_body.complete"):
            callback()

    request.extensions["trace"] = trace


class OpenAIChatModel:
    """Chat completions over any OpenAI-compatible server (OPENAI_BASE_URL), streamed."""

    def __init__(self, *, api_key: str, base_url: str | None, model: str, timeout: float, connect_timeout: float):
        self.api_key = api_key
        self.base_url = base_url or None
        self.model = model
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._clients: dict[int, Any] = {}

    def _client(self):
        # An AsyncOpenAI client belongs to the event loop it first ran on. No retries: a visitor is
        # waiting, so fail fast and say so; the next message tries again.
        loop_id = id(asyncio.get_running_loop())
        client = self._clients.get(loop_id)
        if client is None:
            client = openai_client.async_client(
                api_key=self.api_key,
                base_url=self.base_url,
                timeout=self.timeout,
                connect_timeout=self.connect_timeout,
                request_hook=_trace_request_sent,
            )
            self._clients[loop_id] = client
        return client

    def messages(self, context: TurnContext) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": system_prompt(context)},
            *context.history,
            {"role": "user", "content": context.user_text},
        ]

    async def stream(
        self, context: TurnContext, stats: StreamStats, on_sent: Callable[[], None] | None = None
    ) -> AsyncIterator[str]:
        try:
            sent = _on_request_sent.set(on_sent)
            try:
                response = await openai_client.chat_completion_stream(
                    self._client(),
                    model=self.model,
                    messages=self.messages(context),
                    stream_options={"include_usage": True},
                    temperature=0.3,
                )
            finally:
                _on_request_sent.reset(sent)
            # The whole reply within OPENAI_TIMEOUT, checked as each piece arrives: the client's timeout
            # bounds one read, so a model trickling a piece every few seconds held a turn for minutes.
            deadline = time.monotonic() + settings.OPENAI_TIMEOUT
            async for chunk in response:
                if time.monotonic() > deadline:
                    await response.close()
                    raise LLMUnavailable(f"the reply took longer than {settings.OPENAI_TIMEOUT:g} s")
                if getattr(chunk, "usage", None):
                    stats.prompt_tokens = chunk.usage.prompt_tokens
                    stats.completion_tokens = chunk.usage.completion_tokens
                for choice in chunk.choices or []:
                    if choice.delta is not None and choice.delta.content:
                        yield choice.delta.content
                    if choice.finish_reason:
                        stats.finish_reason = choice.finish_reason
        except openai_client.api_error() as exc:
            raise LLMUnavailable(f"{exc.__class__.__name__}: {exc}") from exc
        if stats.finish_reason is None:
            # A stream cut without chunked framing ends "cleanly" with no finish_reason (NOTES).
            raise LLMUnavailable("the model's stream ended before it finished")


# --- offline responder ------------------------------------------------------------------------------

GREETING_RE = re.compile(r"^\s*(hi|hello|hey|hola|good (morning|afternoon|evening)|yo)\b[\s!.,]*$", re.I)


class OfflineResponder:
    """A real answer composed from the retrieved listings and the persona, for running without a key."""

    def compose(self, context: TurnContext) -> str:
        name = context.contact_name.split()[0] if context.contact_name else ""
        if context.just_shared_contact:
            who = f", {name}" if name else ""
            thanks = f"Thank you{who}! An agent from {context.organization_name} will get in touch soon."
            if context.listings:
                return thanks + " Meanwhile, these may interest you:\n" + self._list(context)
            return thanks + " Is there anything else you'd like to know?"
        if context.is_greeting_only or not context.user_text.strip():
            return context.greeting
        if not context.listings:
            return self._nothing_found(context)
        lines = [self._intro(context), self._list(context)]
        follow_up = self._follow_up(context)
        if follow_up:
            lines.append(follow_up)
        return "\n".join(lines)

    def _intro(self, context: TurnContext) -> str:
        count = len(context.listings)
        what = _describe(context.criteria)
        noun = "listing" if count == 1 else "listings"
        return f"Here {'is' if count == 1 else 'are'} {count} {noun}{what} from our catalog:"

    def _list(self, context: TurnContext) -> str:
        return "\n".join(f"• {listing_line(listing)}" for listing in context.listings)

    def _nothing_found(self, context: TurnContext) -> str:
        what = _describe(context.criteria) or " for that"
        advice = []
        if "max_price" in context.criteria:
            advice.append("a higher budget")
        if "min_bedrooms" in context.criteria:
            advice.append("fewer bedrooms")
        if "city" in context.criteria:
            advice.append("a nearby area")
        tip = (
            f" Would you consider {' or '.join(advice)}?" if advice else " Could you tell me more about what you need?"
        )
        return f"I'm sorry, we have no listings{what} right now.{tip}"

    def _follow_up(self, context: TurnContext) -> str:
        missing = []
        if "city" not in context.criteria:
            missing.append("which area")
        if "max_price" not in context.criteria and "min_price" not in context.criteria:
            missing.append("your budget")
        if "listing_type" not in context.criteria:
            missing.append("whether you want to buy or rent")
        if missing:
            return "To narrow it down, tell me " + _join(missing) + "."
        if not context.has_contact:
            return (
                "Would you like to visit one? Share your name and an email or phone number "
                "and an agent will arrange it."
            )
        return "Would you like to arrange a visit to one of them?"

    async def stream(
        self, context: TurnContext, stats: StreamStats, on_sent: Callable[[], None] | None = None
    ) -> AsyncIterator[str]:
        if on_sent is not None:
            on_sent()
        text = self.compose(context)
        stats.completion_tokens = len(text.split())
        # Word by word, like a model: the consumer coalesces tiny pieces before sending.
        for piece in re.findall(r"\S+\s*|\s+", text):
            yield piece
            await asyncio.sleep(0)
        stats.finish_reason = "stop"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _describe(criteria: dict[str, Any]) -> str:
    words = []
    if criteria.get("min_bedrooms"):
        words.append(f"with {criteria['min_bedrooms']}+ bedrooms")
    if criteria.get("city"):
        words.append(f"in {criteria['city']}")
    if criteria.get("max_price"):
        words.append(f"up to {Decimal(criteria['max_price']):,.0f}")
    if criteria.get("listing_type"):
        words.append("for rent" if criteria["listing_type"] == "rent" else "for sale")
    kind = criteria.get("property_type")
    return (f" ({kind}s)" if kind else "") + ("" if not words else " " + " ".join(words))


_model: ChatModel | None = None


def chat_model() -> ChatModel:
    """The configured model: OpenAI-compatible when OPENAI_API_KEY is set, else the offline responder."""
    global _model
    if _model is None:
        if settings.OPENAI_API_KEY:
            _model = OpenAIChatModel(
                api_key=settings.OPENAI_API_KEY,
                base_url=settings.OPENAI_BASE_URL,
                model=settings.OPENAI_MODEL,
                timeout=settings.OPENAI_TIMEOUT,
                connect_timeout=settings.OPENAI_CONNECT_TIMEOUT,
            )
        else:
            _model = OfflineResponder()
    return _model


def chat_model_reset() -> None:
    """Forget the configured model (settings changed, e.g. in tests)."""
    global _model
    _model = None
