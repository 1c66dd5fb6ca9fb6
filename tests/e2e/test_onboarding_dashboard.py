"""A new agency in a real browser: five onboarding steps, its snippet on its own site, the conversation live in
the dashboard, taken over by a person whose reply reaches the visitor."""

from __future__ import annotations

import functools
import http.server
import re
import threading
import uuid
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import _QuietHandler, free_port
from tests.e2e.test_widget import Frames, ask, wait_for_frame

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PASSWORD = "a-Long-pass-2026"
QUESTION = "Do you have a 2 bedroom apartment for rent in Austin?"
AGENT_REPLY = "Hi, this is Maria from Sunrise. I can show you two of them tomorrow."


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"onboarding-{name}.png"), full_page=True)


def agency_site(tmp_path: Path):
    """The agency's own site on another origin; its page is written once the wizard gives the snippet."""
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def test_a_new_agency_goes_live_and_takes_over_its_first_conversation(browser, platform, tmp_path):
    suffix = uuid.uuid4().hex[:6]  # the e2e database outlives a run
    slug, email = f"sunrise-{suffix}", f"jane-{suffix}@sunrise.test"
    server, site_origin = agency_site(tmp_path)
    owner = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
    page = owner.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    try:
        # Sign up, then step 1: brand, with the live slug check.
        page.goto(f"{platform.url}/onboarding/")
        expect(page).to_have_url(re.compile(r"/signup/"))
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign up").click()
        expect(page).to_have_url(re.compile(r"/onboarding/step1/$"))
        page.get_by_label("Agency name").fill("Sunrise Homes")
        page.get_by_label("Address").fill("demo")
        expect(page.locator("#slug-check")).to_contain_text("already taken")
        page.get_by_label("Address").fill(slug)
        expect(page.locator("#slug-check")).to_contain_text(f"{slug}.localhost is available")
        shot(page, "1-brand")
        page.get_by_role("button", name="Save and continue").click()

        # Step 2: persona, with a preview answer in its voice.
        expect(page).to_have_url(re.compile(r"/onboarding/step2/$"))
        page.get_by_label("Assistant's name").fill("Sol")
        page.get_by_label("Tone").select_option("professional")
        page.get_by_label("Greeting").fill("Hi, I'm Sol from Sunrise Homes! Looking to buy or rent?")
        page.get_by_label("A visitor's question").fill("hello")
        page.get_by_role("button", name="Preview answer").click()
        expect(page.locator("#preview-answer")).to_contain_text("Hi, I'm Sol from Sunrise Homes!")
        shot(page, "2-persona")
        page.get_by_role("button", name="Save and continue").click()

        # Step 3: the widget only on the agency's own site; no Facebook page now.
        expect(page).to_have_url(re.compile(r"/onboarding/step3/$"))
        page.get_by_label("Websites allowed to show the chat").fill(site_origin)
        shot(page, "3-channels")
        page.get_by_role("button", name="Save and continue").click()

        # Step 4: the plans side by side; stay on the trial.
        expect(page).to_have_url(re.compile(r"/onboarding/step4/$"))
        expect(page.get_by_role("button", name=re.compile("^Subscribe to"))).to_have_count(3)
        shot(page, "4-plan")
        page.get_by_role("button", name="Continue on the free trial").click()

        # Step 5: the sample catalog imports in the background; the page polls its progress, then shows the result.
        expect(page).to_have_url(re.compile(r"/onboarding/step5/$"))
        page.get_by_role("button", name="Load sample listings").click()
        expect(page.locator("#import-result [data-job]")).to_be_attached()
        expect(page.locator("#import-done")).to_contain_text("listings added", timeout=60000)
        expect(page.locator("#import-done")).to_contain_text("252 of 252 rows processed")
        shot(page, "5-import")
        page.locator("#finish").click()

        # The end: the one-line snippet, and the assistant live on this very page.
        expect(page).to_have_url(re.compile(r"/onboarding/done/$"))
        snippet = page.locator("#snippet").inner_text().strip()
        assert snippet == f'<script src="{platform.url}/embed/{slug}.js" async></script>'
        expect(page.get_by_role("button", name=re.compile(r"^Open chat with Sol"))).to_be_visible()
        shot(page, "6-done")
        (tmp_path / "index.html").write_text(
            f"<!doctype html><html><head><meta charset='utf-8'><title>Sunrise Homes</title></head>"
            f"<body><h1>Sunrise Homes</h1>{snippet}</body></html>",
            encoding="utf-8",
        )

        # The dashboard on the agency's own host, logged in by the one-time link.
        page.get_by_role("button", name="Open your dashboard").click()
        expect(page).to_have_url(re.compile(rf"^http://{slug}\.localhost:\d+/dashboard/$"))
        expect(page.get_by_role("heading", name="Overview")).to_be_visible()
        expect(page.locator("#daily-chart")).to_be_visible()
        shot(page, "7-dashboard-overview")
        page.get_by_role("link", name="Conversations").click()
        expect(page.locator("#live-state")).to_have_text("live")

        # A visitor asks on the agency's site.
        visitor = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
        site = visitor.new_page()
        frames = Frames(site)
        site.goto(site_origin + "/")
        site.get_by_role("button", name=re.compile(r"^Open chat with Sol")).click()
        expect(site.get_by_role("log")).to_contain_text("Hi, I'm Sol from Sunrise Homes!")
        site.get_by_role("textbox", name="Message Sol").focus()
        done = ask(site, frames, QUESTION)
        assert done["citations"], done["text"]

        # It appears in the dashboard without a reload.
        row = page.locator("#conversation-rows tr[data-conversation]")
        expect(row).to_have_count(1, timeout=15000)
        expect(row).to_contain_text("Website")
        shot(page, "8-dashboard-live")
        row.get_by_role("link").click()
        expect(page.locator("#thread")).to_contain_text(QUESTION)
        expect(page.locator("#thread")).to_contain_text(done["text"][:40])

        # Taken over: the reply reaches the visitor live, and the assistant stays quiet.
        page.get_by_role("button", name="Take over", exact=True).click()
        expect(page.locator("#conversation-status")).to_have_text("A person answers")
        page.get_by_placeholder("Write a reply…").fill(AGENT_REPLY)
        page.get_by_role("button", name="Send", exact=True).click()
        expect(page.locator("#thread")).to_contain_text(AGENT_REPLY)
        agent = wait_for_frame(site, frames, "message", 1)
        assert agent["message"]["role"] == "agent" and agent["message"]["text"] == AGENT_REPLY
        expect(site.get_by_role("log")).to_contain_text(AGENT_REPLY)
        site.screenshot(path=str(ARTIFACTS / "onboarding-9-visitor-sees-agent.png"))

        # The visitor's next message shows up in the open conversation live; no AI reply follows.
        site.keyboard.type("Great, 10am works for me")
        site.keyboard.press("Enter")
        expect(page.locator("#thread")).to_contain_text("Great, 10am works for me", timeout=15000)
        shot(page, "10-dashboard-takeover")
        assert not frames.of_type("done")[1:], "the assistant answered a conversation a person took over"
        assert not page_errors, page_errors
        visitor.close()
    finally:
        owner.close()
        server.shutdown()
        server.server_close()
