"""The widget in a real browser: embedded on another origin, streaming, listing cards, resume, phone, full page."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import expect

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"  # gitignored; conftest creates it

QUESTION = "Do you have a 2 bedroom apartment for rent in Austin?"
FOLLOW_UP = "Anything with a pool?"
BRAND_RGB = "rgb(15, 118, 110)"  # the demo's #0f766e
HOSTILE_RED = "rgb(255, 0, 0)"


class Frames:
    """Every frame the chat websocket received, and the URLs it connected to."""

    def __init__(self, page):
        self.received: list[dict] = []
        self.urls: list[str] = []
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, ws):
        if "/ws/chat/" not in ws.url:
            return
        self.urls.append(ws.url)
        ws.on("framereceived", lambda payload: self.received.append(json.loads(payload)))

    def of_type(self, kind: str) -> list[dict]:
        return [frame for frame in self.received if frame["type"] == kind]


def open_with_keyboard(page):
    launcher = page.get_by_role("button", name=re.compile(r"^Open chat with Ava"))
    expect(launcher).to_be_visible()
    launcher.focus()
    page.keyboard.press("Enter")
    textbox = page.get_by_role("textbox", name="Message Ava")
    expect(textbox).to_be_focused()
    return textbox


def wait_for_frame(page, frames: Frames, kind: str, count: int, timeout_ms: int = 30000) -> dict:
    """Wait until `count` frames of `kind` arrived (events are delivered while Playwright waits)."""
    step_ms = 100
    for _ in range(timeout_ms // step_ms):
        found = frames.of_type(kind)
        if len(found) >= count:
            return found[count - 1]
        assert not frames.of_type("error"), frames.of_type("error")
        page.wait_for_timeout(step_ms)
    raise AssertionError(f"no {kind} frame #{count}; frames: {frames.received}")


def ask(page, frames: Frames, text: str) -> dict:
    """Type a question, press Enter, wait for the reply's `done` frame and return it."""
    before = len(frames.of_type("done"))
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    return wait_for_frame(page, frames, "done", before + 1)


def assistant_bubbles(page):
    return page.locator("rea-chat-widget .msg.assistant .bubble")


def test_embedded_widget_streams_an_answer_with_listing_cards_and_resumes_after_reload(context, site, platform):
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    frames = Frames(page)
    page.goto(site.url)

    # The launcher wears the organization's color whatever the host page's CSS says.
    launcher = page.get_by_role("button", name=re.compile(r"^Open chat with Ava"))
    expect(launcher).to_be_visible()
    assert launcher.evaluate("el => getComputedStyle(el).backgroundColor") == BRAND_RGB

    textbox = open_with_keyboard(page)
    log = page.get_by_role("log")
    expect(log).to_contain_text("Hi, I'm Ava from Demo Realty")
    expect(page.get_by_role("heading", name="Ava")).to_be_visible()
    conversation = wait_for_frame(page, frames, "conversation", 1)
    assert conversation["messages"] == []

    done = ask(page, frames, QUESTION)

    # Streamed: several deltas for this reply, which add up to the stored text the widget shows.
    deltas = [frame for frame in frames.of_type("delta") if frame["message_id"] == done["message_id"]]
    assert len(deltas) >= 2, deltas
    assert "".join(frame["text"] for frame in deltas) == done["text"]
    expect(assistant_bubbles(page).last).to_have_text(done["text"])
    expect(log).to_contain_text(QUESTION)

    # A listing card per citation: photo (or placeholder), price with currency, beds, city, link.
    citations = done["citations"]
    assert citations, f"the demo catalog should match: {done['text']}"
    cards = page.locator("rea-chat-widget a.card")
    expect(cards).to_have_count(len(citations))
    first, card = citations[0], cards.first
    expect(card).to_have_attribute("href", first["url"])
    expect(card).to_have_attribute("target", "_blank")
    expect(card).to_have_attribute("rel", "noopener noreferrer")
    expect(card).to_contain_text(first["title"])
    expect(card).to_contain_text(f"{first['bedrooms']} beds · {first['city']}")
    amount = f"{round(float(first['price'])):,}"
    expect(card).to_contain_text(f"${amount} / month" if first["listing_type"] == "rent" else f"${amount}")
    expect(card.locator(".photo")).to_be_visible()

    # Isolated from the host page: its `* { color: red !important }` does not reach the bubbles.
    bubble_style = assistant_bubbles(page).last.evaluate(
        "el => [getComputedStyle(el).color, getComputedStyle(el).fontFamily]"
    )
    assert bubble_style[0] != HOSTILE_RED
    assert "Courier" not in bubble_style[1]
    page.screenshot(path=str(ARTIFACTS / "widget-desktop.png"))

    token = page.evaluate("localStorage.getItem('rea-chat:demo:conversation')")
    assert token == conversation["conversation"]

    # A reload resumes the same conversation: the panel reopens with the history from the server.
    page.reload()
    resumed = wait_for_frame(page, frames, "conversation", 2)
    expect(log).to_contain_text(QUESTION)
    expect(log).to_contain_text(done["text"][:60])
    assert resumed["conversation"] == token
    assert [m["role"] for m in resumed["messages"]][-2:] == ["visitor", "assistant"]
    assert f"conversation={token}" in frames.urls[-1]
    page.screenshot(path=str(ARTIFACTS / "widget-resumed.png"))

    # Keyboard: Escape closes the panel and gives the focus back to the launcher.
    textbox.focus()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.get_by_role("button", name=re.compile(r"^Open chat with Ava"))).to_be_focused()
    assert not page_errors, page_errors


def test_widget_reconnects_with_backoff_and_keeps_the_conversation(context, site, platform):
    page = context.new_page()
    frames = Frames(page)
    page.goto(site.url)
    open_with_keyboard(page)
    ask(page, frames, QUESTION)
    token = frames.of_type("conversation")[-1]["conversation"]

    # The connection drops (a deploy, a flaky network): the widget says so, comes back, resumes.
    page.evaluate("window.RealEstateChat.instances.demo.ws.close(4000)")
    expect(page.get_by_role("status")).to_have_text("Connection lost. Reconnecting…")
    resumed = wait_for_frame(page, frames, "conversation", 2, timeout_ms=10000)
    expect(page.get_by_role("status")).to_be_hidden()
    assert resumed["conversation"] == token
    assert f"conversation={token}" in frames.urls[-1]

    done = ask(page, frames, FOLLOW_UP)
    expect(assistant_bubbles(page).last).to_have_text(done["text"])
    assert [m["text"] for m in resumed["messages"] if m["role"] == "visitor"] == [QUESTION]


def test_an_agents_reply_reaches_the_widget_live(context, site, platform, tenant_api):
    page = context.new_page()
    frames = Frames(page)
    page.goto(site.url)
    open_with_keyboard(page)
    ask(page, frames, QUESTION)
    visitor = page.evaluate("localStorage.getItem('rea-chat:demo:visitor')")
    listed = tenant_api.call("GET", "/api/v1/conversations/?page_size=100")["results"]
    conversation = next(c for c in listed if c["visitor_id"] == visitor)

    # A person takes over from the dashboard: the reply appears in the open panel, marked as theirs.
    tenant_api.call("POST", f"/api/v1/conversations/{conversation['id']}/messages/", {"text": "Hi, I'm Sam. Saturday?"})
    agent = page.locator("rea-chat-widget .msg.agent")
    expect(agent).to_have_count(1)
    expect(agent).to_contain_text("Agent")
    expect(agent.locator(".bubble")).to_have_text("Hi, I'm Sam. Saturday?")

    # With the panel closed, the next one shows as unread on the launcher.
    page.keyboard.press("Escape")
    tenant_api.call("POST", f"/api/v1/conversations/{conversation['id']}/messages/", {"text": "Still there?"})
    expect(page.get_by_role("button", name="Open chat with Ava (1 new)")).to_be_visible()
    page.keyboard.press("Enter")  # the focus went back to the launcher
    expect(agent.last.locator(".bubble")).to_have_text("Still there?")
    expect(page.get_by_role("button", name="Close chat with Ava")).to_be_visible()


def test_widget_is_full_screen_on_a_phone(browser, site, platform):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        frames = Frames(page)
        page.goto(site.url)
        page.get_by_role("button", name=re.compile(r"^Open chat with Ava")).tap()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        box = dialog.bounding_box()
        assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 390, 844)
        # The panel covers the launcher; its own close button is the way out.
        expect(page.get_by_role("button", name=re.compile(r"^(Open|Close) chat with Ava"))).to_be_hidden()
        page.get_by_role("textbox", name="Message Ava").tap()
        ask(page, frames, QUESTION)
        expect(page.locator("rea-chat-widget a.card").first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "widget-phone.png"))
        page.get_by_role("button", name="Close chat").tap()
        expect(dialog).to_be_hidden()
    finally:
        context.close()


def test_full_page_chat_in_the_organizations_brand(context, platform):
    page = context.new_page()
    frames = Frames(page)
    page.goto(f"{platform.url}/chat/{platform.slug}")
    expect(page).to_have_title("Chat with Ava · Demo Realty")
    expect(page.get_by_role("heading", name="Ava")).to_be_visible()
    expect(page.get_by_role("log")).to_contain_text("Hi, I'm Ava from Demo Realty")
    page.get_by_role("textbox", name="Message Ava").click()
    done = ask(page, frames, QUESTION)
    expect(assistant_bubbles(page).last).to_have_text(done["text"])
    expect(page.locator("rea-chat-widget a.card").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "chat-page.png"))


def test_error_frames_and_refusals_are_shown_politely(context, site, platform):
    """Frames the real server sends only under load or misconfiguration, played by a routed websocket.

    Same page, same loader, same widget; only the websocket's answers are scripted, per the contract.
    """
    page = context.new_page()
    replies = iter(
        [
            [{"type": "delta", "message_id": 7, "text": "Let me look"}, {"type": "error", "code": "unavailable"}],
            [{"type": "error", "code": "rate_limited", "detail": "Too many messages; try again in 20 s."}],
            [{"type": "error", "code": "plan_limit", "detail": "Monthly AI replies used up."}],
        ]
    )

    def chat_socket(ws):
        ws.send(json.dumps({"type": "conversation", "conversation": "tok-1", "greeting": "Hello!", "messages": []}))
        ws.on_message(lambda message: [ws.send(json.dumps(frame)) for frame in next(replies)])

    page.route_web_socket(re.compile(r"/ws/chat/demo/"), chat_socket)
    page.goto(site.url)
    open_with_keyboard(page)
    log = page.get_by_role("log")
    expect(log).to_contain_text("Hello!")

    notes = page.locator("rea-chat-widget .note")
    for index, (question, polite) in enumerate(
        [
            ("Hi?", "Sorry, the assistant is unavailable at the moment."),
            ("Hello?", "You're sending messages a little quickly."),
            ("Anyone?", "Our assistant can't take more questions right now."),
        ]
    ):
        page.keyboard.type(question)
        page.keyboard.press("Enter")
        expect(notes).to_have_count(index + 1)
        expect(notes.nth(index)).to_contain_text(polite)
    # The partial reply stays, marked as cut short; no typing dots are left behind.
    expect(page.locator("rea-chat-widget .msg.interrupted .bubble")).to_have_text("Let me look")
    expect(page.locator("rea-chat-widget .dots")).to_have_count(0)


def test_a_refused_connection_is_not_retried(context, site, platform):
    page = context.new_page()
    attempts = []

    def refuse(ws):
        attempts.append(ws.url)
        ws.close(code=4403, reason="origin not allowed")

    page.route_web_socket(re.compile(r"/ws/chat/demo/"), refuse)
    page.goto(site.url)
    open_with_keyboard(page)
    expect(page.get_by_role("status")).to_have_text("Chat is not available on this site.")
    page.wait_for_timeout(2500)  # longer than the first backoff steps
    assert len(attempts) == 1
