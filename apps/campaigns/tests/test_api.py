"""Contract of campaigns/, campaigns/<id>/steps/, campaigns/<id>/send/ and message-logs/: shapes, roles, errors."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.campaigns.models import Campaign, Enrollment, MessageLog
from apps.campaigns.services import email_sequences_run, suppression_add
from apps.campaigns.tests.conftest import new_lead
from apps.leads.services import lead_update

CAMPAIGNS = "/api/v1/campaigns/"
LOGS = "/api/v1/message-logs/"
CAMPAIGN_FIELDS = {"id", "name", "kind", "trigger", "status"}
STEP_FIELDS = {"id", "order", "delay_days", "subject", "body"}
LOG_FIELDS = {"id", "lead", "campaign", "step", "to", "subject", "status", "provider_message_id", "created_at"}


@pytest.fixture
def admin(org, client_for, api_key):
    return client_for(org, api_key=api_key)


@pytest.fixture
def member(org, client_for, member_of):
    return client_for(org, user=member_of(org, "member"))


def error(response) -> tuple[str, str | None]:
    body = response.json()
    return body["errors"][0]["code"], body["errors"][0]["attr"]


def steps_url(campaign_id: int) -> str:
    return f"{CAMPAIGNS}{campaign_id}/steps/"


def blast(admin, name="Spring open house", body="Hi {{ lead.first_name }}, come by on Saturday!") -> int:
    campaign = admin.post(CAMPAIGNS, {"name": name, "kind": "blast"}).json()
    admin.post(steps_url(campaign["id"]), {"subject": "Open house at {{ organization.name }}", "body": body})
    return campaign["id"]


def test_every_organization_sees_its_welcome_sequence_and_admins_edit_it(admin):
    response = admin.get(CAMPAIGNS)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    [welcome] = body["results"]
    assert set(welcome) == CAMPAIGN_FIELDS
    assert (welcome["name"], welcome["kind"], welcome["trigger"], welcome["status"]) == (
        "Welcome sequence", "sequence", "lead_created", "active",
    )  # fmt: skip
    steps = admin.get(steps_url(welcome["id"])).json()["results"]
    assert [(step["order"], step["delay_days"]) for step in steps] == [(0, 0), (1, 3), (2, 7), (3, 14)]
    assert all(set(step) == STEP_FIELDS for step in steps)
    assert "{{ organization.persona_name }}" in steps[0]["body"]

    changed = admin.patch(f"{steps_url(welcome['id'])}{steps[1]['id']}/", {"delay_days": 2, "subject": "Day two"})
    assert changed.status_code == 200
    assert changed.json() == {**steps[1], "delay_days": 2, "subject": "Day two"}
    assert admin.patch(f"{CAMPAIGNS}{welcome['id']}/", {"status": "paused"}).json()["status"] == "paused"


def test_create_read_update_delete_a_campaign(admin):
    created = admin.post(CAMPAIGNS, {"name": "  Newsletter  ", "kind": "blast"})
    assert created.status_code == 201
    campaign = created.json()
    assert campaign == {
        "id": campaign["id"],
        "name": "Newsletter",
        "kind": "blast",
        "trigger": "manual",
        "status": "draft",
    }
    url = f"{CAMPAIGNS}{campaign['id']}/"
    assert admin.get(url).json() == campaign
    replaced = admin.put(url, {"name": "Nurture", "kind": "sequence", "trigger": "lead_created", "status": "active"})
    assert replaced.status_code == 200
    assert replaced.json() == {
        **campaign,
        "name": "Nurture",
        "kind": "sequence",
        "trigger": "lead_created",
        "status": "active",
    }
    assert admin.delete(url).status_code == 204
    assert admin.get(url).status_code == 404


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({"name": "x", "kind": "newsletter"}, "kind"),
        ({"name": "x", "kind": "blast", "trigger": "lead_created"}, "trigger"),
        ({"name": "x", "status": "sending"}, "status"),
        ({"name": "   "}, "name"),
        ({"kind": "blast"}, "name"),
    ],
)
def test_bad_campaigns_are_400_naming_the_field(admin, payload, attr):
    response = admin.post(CAMPAIGNS, payload)
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert error(response)[1] == attr


def test_the_plan_limits_campaigns_but_not_the_welcome_sequence(admin):
    # Starter allows 2 campaigns; the platform's welcome sequence comes on top.
    assert admin.post(CAMPAIGNS, {"name": "One"}).status_code == 201
    assert admin.post(CAMPAIGNS, {"name": "Two"}).status_code == 201
    response = admin.post(CAMPAIGNS, {"name": "Three"})
    assert response.status_code == 403
    assert error(response) == ("plan_limit", "campaigns")
    assert admin.get(CAMPAIGNS).json()["count"] == 3
    assert admin.get("/api/v1/billing/subscription/").json()["usage"]["campaigns"] == 2


def test_members_read_and_only_admins_write(member, admin):
    assert member.get(CAMPAIGNS).status_code == 200
    assert member.get(LOGS).status_code == 200
    assert member.post(CAMPAIGNS, {"name": "Nope"}).status_code == 403
    welcome = admin.get(CAMPAIGNS).json()["results"][0]["id"]
    assert member.post(f"{CAMPAIGNS}{welcome}/send/", {}).status_code == 403
    assert member.post(steps_url(welcome), {"subject": "s", "body": "b"}).status_code == 403


def test_no_key_is_401_and_another_organizations_key_sees_nothing(org, other_org, client_for, admin):
    from apps.accounts.services import api_key_create

    assert client_for(org).get(CAMPAIGNS).status_code == 401
    _, globex_key = api_key_create(organization=other_org, name="globex")
    assert client_for(org, api_key=globex_key).get(CAMPAIGNS).status_code == 401
    acme_campaign = admin.post(CAMPAIGNS, {"name": "Acme only"}).json()["id"]
    globex = client_for(other_org, api_key=globex_key)
    assert [c["name"] for c in globex.get(CAMPAIGNS).json()["results"]] == ["Welcome sequence"]
    assert globex.get(f"{CAMPAIGNS}{acme_campaign}/").status_code == 404
    with tenant_context(other_org):
        assert not Campaign.objects.filter(name="Acme only").exists()


def test_steps_crud_with_order_templates_and_conflicts(admin):
    campaign = admin.post(CAMPAIGNS, {"name": "Nurture"}).json()["id"]
    first = admin.post(steps_url(campaign), {"subject": "Hello {{ lead.first_name }}", "body": "Hi!"})
    assert first.status_code == 201
    assert first.json() == {
        "id": first.json()["id"], "order": 0, "delay_days": 0, "subject": "Hello {{ lead.first_name }}", "body": "Hi!",
    }  # fmt: skip
    second = admin.post(steps_url(campaign), {"subject": "Later", "body": "Again", "delay_days": 5}).json()
    assert (second["order"], second["delay_days"]) == (1, 5)

    broken = admin.post(steps_url(campaign), {"subject": "x", "body": "{% if lead %}no end"})
    assert broken.status_code == 400 and error(broken)[1] == "body"
    assert error(admin.post(steps_url(campaign), {"subject": "{{ lead|nofilter }}", "body": "b"}))[1] == "subject"
    # They compile, then failed every recipient's mail at send time, or weighed 15 MB: tried on a sample lead.
    for body in ("{% url 'home' %}", "{% include 'x.txt' %}", "{% extends 'base.html' %}", "{% lorem 999999 w %}"):
        refused = admin.post(steps_url(campaign), {"subject": "x", "body": body})
        assert refused.status_code == 400 and error(refused)[1] == "body", body
    taken = admin.post(steps_url(campaign), {"subject": "x", "body": "y", "order": 1})
    assert taken.status_code == 409 and error(taken) == ("conflict", "order")
    assert admin.post(steps_url(campaign), {"subject": "x", "body": "y", "delay_days": -1}).status_code == 400

    step_url = f"{steps_url(campaign)}{second['id']}/"
    assert admin.put(step_url, {"subject": "Later on", "body": "Again"}).json()["order"] == 1
    assert admin.delete(step_url).status_code == 204
    assert [s["order"] for s in admin.get(steps_url(campaign)).json()["results"]] == [0]
    assert admin.get(steps_url(999_999)).status_code == 404


def test_send_a_blast_to_a_lead_filter(org, admin):
    with tenant_context(org):
        new_lead(email="ana@example.com")
        new_lead(email="bo@example.com", name="Bo")
        won = new_lead(email="cy@example.com", name="Cy")
        lead_update(lead=won, status="won")
        new_lead(email="di@example.com", name="Di")
        suppression_add(email="di@example.com", reason="unsubscribed")
        from apps.leads.services import lead_capture

        lead_capture(name="No Address", phone="+15125550100")
    campaign = blast(admin)
    response = admin.post(f"{CAMPAIGNS}{campaign}/send/", {"filter": {"status": "new"}}, format="json")
    assert response.status_code == 202
    assert response.json() == {"queued": 2}  # not the won lead, the suppressed one nor the one without an address
    assert admin.get(f"{CAMPAIGNS}{campaign}/").json()["status"] == "active"
    # Sending again reaches only leads not enrolled yet.
    assert admin.post(f"{CAMPAIGNS}{campaign}/send/", {"filter": {}}, format="json").json() == {"queued": 1}
    with tenant_context(org):
        emails = set(Enrollment.objects.filter(campaign_id=campaign).values_list("lead__email", flat=True))
    assert emails == {"ana@example.com", "bo@example.com", "cy@example.com"}


def test_send_with_a_text_filter_and_bad_filters(org, admin):
    with tenant_context(org):
        new_lead(email="ana@example.com")
        new_lead(email="bo@example.com", name="Bo")
    campaign = blast(admin)
    url = f"{CAMPAIGNS}{campaign}/send/"
    assert admin.post(url, {"filter": {"q": "bo@"}}, format="json").json() == {"queued": 1}
    response = admin.post(url, {"filter": {"status": "sleeping"}}, format="json")
    assert response.status_code == 400 and error(response)[1] == "filter.status"
    # A misspelt key is refused rather than read as "every lead".
    response = admin.post(url, {"filter": {"stauts": "new"}}, format="json")
    assert response.status_code == 400 and error(response)[1] == "filter.stauts"
    assert admin.post(url, {"filter": "new"}, format="json").status_code == 400


def test_a_paused_campaign_or_one_without_steps_cannot_be_sent(admin):
    empty = admin.post(CAMPAIGNS, {"name": "Empty", "kind": "blast"}).json()["id"]
    response = admin.post(f"{CAMPAIGNS}{empty}/send/", {}, format="json")
    assert response.status_code == 400 and error(response) == ("invalid", "campaign")
    paused = blast(admin)
    admin.patch(f"{CAMPAIGNS}{paused}/", {"status": "paused"})
    response = admin.post(f"{CAMPAIGNS}{paused}/send/", {}, format="json")
    assert response.status_code == 409 and error(response) == ("conflict", "status")


def test_message_logs_list_with_filters(org, admin):
    with tenant_context(org):
        ana = new_lead(email="ana@example.com")
        new_lead(email="bo@example.com", name="Bo")
        email_sequences_run()
        MessageLog.objects.filter(to="bo@example.com").update(status="opened")
    assert len(mail.outbox) == 2
    body = admin.get(LOGS).json()
    assert body["count"] == 2
    assert all(set(row) == LOG_FIELDS for row in body["results"])
    [row] = admin.get(LOGS, {"lead": ana.pk}).json()["results"]
    assert (row["lead"], row["to"], row["status"], row["subject"]) == (
        ana.pk, "ana@example.com", "sent", "Welcome to Acme Realty, Ana!",
    )  # fmt: skip
    assert isinstance(row["campaign"], int) and isinstance(row["step"], int)
    assert [r["to"] for r in admin.get(LOGS, {"status": "opened"}).json()["results"]] == ["bo@example.com"]
    assert admin.get(f"{LOGS}{row['id']}/").json() == row
    response = admin.get(LOGS, {"status": "lost"})
    assert response.status_code == 400 and error(response)[1] == "status"
    assert admin.post(LOGS, {}).status_code == 405


def test_message_log_list_queries_do_not_grow_with_rows(org, admin):
    with tenant_context(org):
        new_lead(email="ana@example.com")
        email_sequences_run()
    admin.get(LOGS)
    with CaptureQueriesContext(connection) as few:
        admin.get(LOGS)
    with tenant_context(org):
        for index in range(5):
            new_lead(email=f"lead{index}@example.com", name=f"Lead {index}")
        email_sequences_run()
    with CaptureQueriesContext(connection) as many:
        assert admin.get(LOGS).json()["count"] == 6
    assert len(many.captured_queries) == len(few.captured_queries)


def test_progress_of_a_campaign(org, admin):
    with tenant_context(org):
        new_lead(email="ana@example.com")
        new_lead(email="bo@example.com", name="Bo")
    campaign = blast(admin)
    admin.post(f"{CAMPAIGNS}{campaign}/send/", {}, format="json")
    progress = admin.get(f"{CAMPAIGNS}{campaign}/progress/").json()
    assert {key: progress[key] for key in ("enrolled", "pending", "completed", "stopped", "sent", "failed")} == {
        "enrolled": 2, "pending": 2, "completed": 0, "stopped": 0, "sent": 0, "failed": 0,
    }  # fmt: skip


def test_the_schema_documents_the_email_endpoints(org, client_for):
    paths = client_for(org).get("/api/schema/", {"format": "json"}).json()["paths"]
    for path in (
        "/api/v1/campaigns/",
        "/api/v1/campaigns/{id}/",
        "/api/v1/campaigns/{id}/send/",
        "/api/v1/campaigns/{id}/progress/",
        "/api/v1/campaigns/{campaign_pk}/steps/",
        "/api/v1/campaigns/{campaign_pk}/steps/{id}/",
        "/api/v1/message-logs/",
        "/api/v1/message-logs/{id}/",
    ):
        assert path in paths, path
    send = paths["/api/v1/campaigns/{id}/send/"]["post"]
    assert {"202", "400", "403", "409"} <= set(send["responses"])
