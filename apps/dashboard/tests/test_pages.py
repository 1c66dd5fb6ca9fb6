"""Dashboard pages: login and its throttle, roles on every page, leads, settings, billing, takeover."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django_tenants.utils import tenant_context

from apps.chat.models import Conversation, ConversationStatus, Message
from apps.leads.models import Lead, LeadStatusChange
from apps.leads.services import lead_capture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def people(org, other_org, member_of):
    return {
        "member": member_of(org, "member"),
        "admin": member_of(org, "admin"),
        "owner": member_of(org, "owner", email="owner@acme.test"),
        "outsider": member_of(other_org, "owner", email="boss@globex.test"),
    }


@pytest.fixture
def history(org):
    with tenant_context(org):
        lead, _ = lead_capture(email="ana@example.com", name="Ana Lima", source="chat")
        conversation = Conversation.objects.create(lead=lead)
        Message.objects.create(conversation=conversation, role="visitor", text="Any flat in Austin?")
        Message.objects.create(conversation=conversation, role="assistant", text="Here are 2 listings")
    return {"lead": lead, "conversation": conversation}


def browser(org, user=None) -> Client:
    client = Client(HTTP_HOST=org.host)
    if user is not None:
        client.force_login(user)
    return client


def pages(history) -> dict[str, str]:
    return {
        "overview": "/dashboard/",
        "conversations": "/dashboard/conversations/",
        "conversation": f"/dashboard/conversations/{history['conversation'].pk}/",
        "leads": "/dashboard/leads/",
        "lead": f"/dashboard/leads/{history['lead'].pk}/",
        "export": "/dashboard/leads/export.csv",
        "billing": "/dashboard/billing/",
        "settings": "/dashboard/settings/",
    }


# Who may read each page: members read everything but settings (admins change it).
READ_MINIMUM = {name: "member" for name in pages({"conversation": Conversation(pk=1), "lead": Lead(pk=1)})}
READ_MINIMUM["settings"] = "admin"
RANK = {"member": 1, "admin": 2, "owner": 3}


@pytest.mark.parametrize("role", ["member", "admin", "owner"])
def test_members_read_by_role(org, people, history, role):
    client = browser(org, people[role])
    for name, url in pages(history).items():
        response = client.get(url)
        expected = 200 if RANK[role] >= RANK[READ_MINIMUM[name]] else 403
        assert response.status_code == expected, (name, role, response.status_code)


def test_anonymous_is_sent_to_the_login_and_outsiders_are_refused(org, people, history):
    for url in pages(history).values():
        response = browser(org).get(url)
        assert response.status_code == 302 and response["Location"].startswith("/dashboard/login/?next=")
        assert browser(org, people["outsider"]).get(url).status_code == 403


def test_the_dashboard_is_not_on_the_public_host(people):
    assert Client(HTTP_HOST="localhost").get("/dashboard/").status_code == 404


def test_login_logs_in_on_this_host_and_throttles_failures(org, people, settings):
    client = browser(org)
    page = client.get("/dashboard/login/?next=/dashboard/leads/")
    assert page.status_code == 200 and b'name="password"' in page.content
    assert b'href="http://localhost/password-reset/"' in page.content
    wrong = client.post("/dashboard/login/", {"email": "admin@acme.test", "password": "nope"})
    assert wrong.status_code == 200 and b"Wrong email or password" in wrong.content
    ok = client.post(
        "/dashboard/login/", {"email": "ADMIN@acme.test", "password": "pw-123456", "next": "/dashboard/leads/"}
    )
    assert ok.status_code == 302 and ok["Location"] == "/dashboard/leads/"
    assert client.get("/dashboard/leads/").status_code == 200

    settings.LOGIN_FAILURE_LIMIT = 3
    attacker = browser(org)
    for _ in range(3):
        attacker.post("/dashboard/login/", {"email": "owner@acme.test", "password": "guess"})
    blocked = attacker.post("/dashboard/login/", {"email": "owner@acme.test", "password": "pw-123456"})
    assert blocked.status_code == 429 and b"Too many failed attempts" in blocked.content
    assert "_auth_user_id" not in attacker.session


def test_an_offsite_next_is_ignored(org, people):
    response = browser(org).post(
        "/dashboard/login/", {"email": "member@acme.test", "password": "pw-123456", "next": "https://evil.test/"}
    )
    assert response["Location"] == "/dashboard/"


def test_overview_shows_the_numbers_and_the_range(org, people, history):
    client = browser(org, people["member"])
    page = client.get("/dashboard/?days=7")
    body = page.content.decode()
    assert page.status_code == 200
    assert 'id="daily-chart"' in body and "dashboard/vendor/chart.umd.js" in body and "series-data" in body
    assert '<option value="7" selected>' in body
    assert "<span>Opened</span><b>0</b>" in body
    partial = client.get("/dashboard/?days=90", HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content and b"Funnel" in partial.content
    assert "http" not in body.split("chart.umd.js")[0].rsplit("src=", 1)[1][:6]  # vendored, no CDN


def test_takeover_reply_and_release(org, people, history):
    conversation = history["conversation"]
    url = f"/dashboard/conversations/{conversation.pk}/"
    member = browser(org, people["member"])
    assert member.post(url + "takeover/").status_code == 403
    assert member.post(url + "reply/", {"text": "hi"}).status_code == 403
    page = member.get(url).content.decode()
    assert "Any flat in Austin?" in page and "Take over" not in page

    admin = browser(org, people["admin"])
    assert b"Take over" in admin.get(url).content
    assert admin.post(url + "takeover/").status_code == 302
    with tenant_context(org):
        assert Conversation.objects.get(pk=conversation.pk).status == ConversationStatus.HUMAN
    empty = admin.post(url + "reply/", {"text": "   "})
    assert empty.status_code == 400 and b"This field is required" in empty.content
    assert admin.post(url + "reply/", {"text": "Hello, Ana here from the agency"}).status_code == 302
    with tenant_context(org):
        agent = Message.objects.get(conversation=conversation, role="agent")
        assert agent.text == "Hello, Ana here from the agency" and agent.author_user_id == people["admin"].pk
    assert b"Release to the assistant" in admin.get(url).content
    assert admin.post(url + "release/").status_code == 302
    with tenant_context(org):
        assert Conversation.objects.get(pk=conversation.pk).status == ConversationStatus.OPEN
    assert browser(org, people["admin"]).get("/dashboard/conversations/999999/").status_code == 404


def test_leads_filters_search_status_and_export(org, people, history):
    with tenant_context(org):
        lead_capture(email="bob@example.com", name="Bob Stone", source="facebook")
    member = browser(org, people["member"])
    assert b"Ana Lima" in member.get("/dashboard/leads/").content
    only_fb = member.get("/dashboard/leads/?source=facebook").content
    assert b"Bob Stone" in only_fb and b"Ana Lima" not in only_fb
    searched = member.get("/dashboard/leads/?q=ana", HTTP_HX_REQUEST="true").content
    assert b"Ana Lima" in searched and b"Bob Stone" not in searched and b"<html" not in searched
    assert b"status: " in member.get("/dashboard/leads/?status=bogus").content
    # The export link carries the search as typed: "&" and "#" in it once cut the query short.
    page = member.get("/dashboard/leads/", {"q": "Smith & Sons#1", "source": "chat"}).content.decode()
    assert "export.csv?source=chat&amp;q=Smith+%26+Sons%231" in page

    export = member.get("/dashboard/leads/export.csv?source=chat")
    assert export["Content-Type"] == "text/csv"
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert lines[0].startswith("id,name,email") and len(lines) == 2 and "ana@example.com" in lines[1]

    lead = history["lead"]
    detail = member.get(f"/dashboard/leads/{lead.pk}/").content.decode()
    assert "Any flat in Austin?" in detail and "Merge log" in detail
    assert member.post(f"/dashboard/leads/{lead.pk}/status/", {"status": "won"}).status_code == 403
    admin = browser(org, people["admin"])
    assert admin.post(f"/dashboard/leads/{lead.pk}/status/", {"status": "qualified"}).status_code == 302
    with tenant_context(org):
        change = LeadStatusChange.objects.get(lead=lead)
        assert (change.to_status, change.reason, change.changed_by_id) == ("qualified", "dashboard", people["admin"].pk)


def test_settings_save_through_the_service_with_errors_on_the_field(org, people):
    admin = browser(org, people["admin"])
    saved = admin.post(
        "/dashboard/settings/",
        {
            "part": "persona",
            "persona_name": "Max",
            "persona_tone": "formal",
            "persona_instructions": "",
            "greeting": "Hello!",
        },
    )
    assert saved.status_code == 302
    org.refresh_from_db()
    assert (org.persona_name, org.greeting) == ("Max", "Hello!")
    bad = admin.post("/dashboard/settings/", {"part": "origins", "allowed_origins": "https://ok.test\nnot a url"})
    assert bad.status_code == 400 and b"not an origin" in bad.content
    org.refresh_from_db()
    assert org.allowed_origins == []
    assert (
        admin.post("/dashboard/settings/", {"part": "origins", "allowed_origins": "https://ok.test/"}).status_code
        == 302
    )
    org.refresh_from_db()
    assert org.allowed_origins == ["https://ok.test"]
    bad_color = admin.post(
        "/dashboard/settings/", {"part": "brand", "name": "Acme", "primary_color": "red", "logo_url": ""}
    )
    assert bad_color.status_code == 400 and b"#RRGGBB" in bad_color.content
    member = browser(org, people["member"])
    assert member.post("/dashboard/settings/", {"part": "persona", "persona_name": "X"}).status_code == 403


def test_api_keys_are_shown_once_and_revoked(org, people):
    from apps.accounts.models import OrganizationAPIKey

    admin = browser(org, people["admin"])
    assert browser(org, people["member"]).post("/dashboard/settings/api-keys/", {"name": "x"}).status_code == 403
    page = admin.post("/dashboard/settings/api-keys/", {"name": "zapier"}, follow=True).content.decode()
    key = OrganizationAPIKey.objects.get(organization=org, name="zapier")
    assert "copy it now" in page and key.prefix in page
    assert admin.post(f"/dashboard/settings/api-keys/{key.pk}/revoke/").status_code == 302
    key.refresh_from_db()
    assert key.revoked
    assert admin.post("/dashboard/settings/api-keys/%00/revoke/").status_code == 404  # was a 500 (NUL in a lookup)


def test_billing_shows_usage_and_only_owners_start_checkout(org, people):
    member = browser(org, people["member"])
    page = member.get("/dashboard/billing/").content.decode()
    assert "Starter plan" in page and "Only the owner can change the plan" in page
    assert member.post("/dashboard/billing/checkout/", {"plan": "pro"}).status_code == 403
    assert browser(org, people["admin"]).post("/dashboard/billing/portal/").status_code == 403
    owner = browser(org, people["owner"])
    assert b"Choose Pro" in owner.get("/dashboard/billing/").content
    # No Stripe key in tests: the owner is told so on the page, nothing breaks.
    response = owner.post("/dashboard/billing/checkout/", {"plan": "pro"}, follow=True)
    assert response.status_code == 200 and b"Billing is not set up" in response.content


def test_logout(org, people):
    client = browser(org, people["member"])
    assert client.post("/dashboard/logout/").status_code == 302
    assert client.get("/dashboard/").status_code == 302
