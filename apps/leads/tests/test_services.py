"""lead_capture and lead_update: dedupe, merge log, scoring and qualification, status changes, events."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.core.errors import ApplicationError
from apps.events.models import Event
from apps.leads.models import Lead, LeadMerge, LeadStatusChange
from apps.leads.scoring import QUALIFICATION_THRESHOLD, lead_score, timeline_months
from apps.leads.serializers import lead_data
from apps.leads.services import (
    attributes_merge,
    lead_capture,
    lead_phone_normalize,
    lead_status_change,
    lead_update,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_org(org):
    with tenant_context(org):
        yield org


def events(type_: str | None = None) -> list[Event]:
    queryset = Event.objects.order_by("id")
    return list(queryset.filter(type=type_) if type_ else queryset)


def test_new_lead_is_created_with_an_event(in_org):
    lead, created = lead_capture(name=" Ana  Diaz ", email=" Ana@Example.COM ", source="chat")
    assert created and lead.status == "new" and lead.source == "chat"
    assert lead.name == "Ana Diaz" and lead.email == "ana@example.com" and lead.phone == ""
    [event] = events()
    assert event.type == "lead.created" and event.data == {"lead": lead_data(lead)}
    assert event.data["lead"]["email"] == "ana@example.com" and isinstance(event.data["lead"]["created_at"], str)


def test_dedupe_by_email_is_case_insensitive(in_org):
    first, _ = lead_capture(email="ana@example.com")
    again, created = lead_capture(email="ANA@example.com ", name="Ana")
    assert not created and again.pk == first.pk
    assert Lead.objects.count() == 1
    assert [event.type for event in events()] == ["lead.created", "lead.updated"]


@pytest.mark.parametrize(
    "written",
    ["+1 512 555 0100", "(512) 555-0100", "512.555.0100", "5125550100", "+1-512-555-0100", "1 (512) 555-0100"],
)
def test_dedupe_by_phone_however_it_is_written(in_org, written):
    first, _ = lead_capture(phone="512-555-0100")
    assert first.phone == "+15125550100"
    again, created = lead_capture(phone=written, attributes={"bedrooms": 2})
    assert not created and again.pk == first.pk and Lead.objects.count() == 1


def test_phone_normalization_and_region(settings):
    assert lead_phone_normalize("+44 20 7946 0958") == "+442079460958"
    settings.PHONE_DEFAULT_REGION = "GB"
    assert lead_phone_normalize("020 7946 0958") == "+442079460958"
    for bad in ("12", "call me", "+1 000"):
        with pytest.raises(ApplicationError) as error:
            lead_phone_normalize(bad)
        assert error.value.attr == "phone"


def test_invalid_or_missing_contact_is_refused_without_an_event(in_org):
    with pytest.raises(ApplicationError) as error:
        lead_capture(email="not-an-email")
    assert error.value.attr == "email"
    with pytest.raises(ApplicationError):
        lead_capture(name="Just a name")
    assert not Lead.objects.exists() and not Event.objects.exists()


def test_merge_keeps_every_earlier_value_and_logs_it(in_org):
    lead, _ = lead_capture(
        name="Ana", email="ana@example.com", phone="512 555 0100", source="chat",
        attributes={"areas": ["Downtown"], "budget_max": 400000, "property_type": "condo"},
    )  # fmt: skip
    merged, created = lead_capture(
        name="Ana Diaz", email="ana.work@example.com", phone="(512) 555-0100", source="form",
        attributes={"areas": ["downtown", "Eastside"], "budget_max": 450000, "timeline": "3 months", "bedrooms": None},
    )  # fmt: skip
    assert not created and merged.pk == lead.pk
    assert merged.name == "Ana Diaz" and merged.email == "ana@example.com" and merged.source == "chat"
    assert merged.attributes == {
        "areas": ["Downtown", "Eastside"], "budget_max": 450000, "property_type": "condo", "timeline": "3 months",
        "other_emails": ["ana.work@example.com"],
    }  # fmt: skip
    [entry] = LeadMerge.objects.filter(lead=lead)
    assert entry.matched_on == "phone" and entry.source == "form"
    assert entry.previous == {"name": "Ana", "attributes.areas": ["Downtown"], "attributes.budget_max": 400000}
    assert entry.incoming["email"] == "ana.work@example.com" and entry.incoming["attributes"]["budget_max"] == 450000
    # The other address now finds the same lead.
    third, created = lead_capture(email="ANA.WORK@example.com")
    assert not created and third.pk == lead.pk and LeadMerge.objects.count() == 2


def test_merge_fills_missing_contact_details(in_org):
    lead_capture(email="bo@example.com")
    merged, _ = lead_capture(email="bo@example.com", phone="+1 303 555 0123")
    assert merged.phone == "+13035550123" and "other_phones" not in merged.attributes


def test_attributes_merge_rules():
    merged, previous = attributes_merge(
        {"areas": "Downtown", "budget_max": 1, "timeline": "asap"},
        {"areas": ["Uptown"], "budget_max": 2, "timeline": "", "financing": "cash"},
    )
    assert merged == {"areas": ["Downtown", "Uptown"], "budget_max": 2, "timeline": "asap", "financing": "cash"}
    assert previous == {"areas": "Downtown", "budget_max": 1}


@pytest.mark.parametrize(
    ("lead", "score"),
    [
        ({}, 0),
        ({"email": "a@b.co"}, 15),
        ({"email": "a@b.co", "phone": "+15125550100", "name": "A"}, 35),
        ({"attributes": {"budget_max": "450,000"}}, 15),
        ({"attributes": {"budget_max": "soon"}}, 0),
        ({"attributes": {"timeline": "asap"}}, 20),
        ({"attributes": {"timeline": "within 5 months"}}, 15),
        ({"attributes": {"timeline": "next year"}}, 5),
        ({"attributes": {"timeline": "just browsing"}}, 0),
        ({"attributes": {"property_type": "condo", "bedrooms": 2, "areas": ["Downtown"]}}, 15),
        ({"attributes": {"financing": "pre-approved"}}, 15),
        ({"attributes": {"financing": "needs a mortgage"}}, 5),
        (
            {"email": "a@b.co", "phone": "+15125550100", "name": "A",
             "attributes": {"budget_max": 5e5, "timeline": "1 month", "property_type": "house", "bedrooms": 3,
                            "areas": ["Zilker"], "financing": "cash"}},
            100,
        ),
    ],
)  # fmt: skip
def test_score_rules(lead, score):
    assert (
        lead_score(
            name=lead.get("name", ""), email=lead.get("email", ""), phone=lead.get("phone", ""),
            attributes=lead.get("attributes", {}),
        )
        == score
    )  # fmt: skip


def test_timeline_months():
    assert timeline_months("ASAP") == 1 and timeline_months("3-6 months") == 6 and timeline_months("2 years") == 24
    assert timeline_months("") is None and timeline_months("no rush") is None


def test_a_lead_over_the_threshold_qualifies_itself_with_a_recorded_change(in_org):
    lead, _ = lead_capture(email="cy@example.com", phone="+15125550111")
    assert lead.status == "new" and lead.score < QUALIFICATION_THRESHOLD
    lead, _ = lead_capture(email="cy@example.com", attributes={"budget_max": 600000, "timeline": "asap"})
    assert lead.score >= QUALIFICATION_THRESHOLD and lead.status == "qualified"
    [change] = LeadStatusChange.objects.filter(lead=lead)
    assert (change.from_status, change.to_status, change.reason) == ("new", "qualified", "score")
    status_event = events("lead.status_changed")[-1]
    assert status_event.data["previous_status"] == "new" and status_event.data["lead"]["status"] == "qualified"
    # A later stage is the agent's: a good score does not pull a lost lead back.
    lead_status_change(lead=lead, status="lost")
    lead, _ = lead_capture(email="cy@example.com", attributes={"financing": "cash"})
    assert lead.status == "lost"


def test_update_records_each_status_change_and_event(in_org, org, member_of):
    agent = member_of(org, "member")
    lead, _ = lead_capture(email="di@example.com")
    for status in ("contacted", "qualified", "won"):
        lead = lead_update(lead=lead, status=status, changed_by=agent)
    changes = list(LeadStatusChange.objects.filter(lead=lead).values_list("from_status", "to_status", "changed_by"))
    assert changes == [
        ("new", "contacted", agent.pk),
        ("contacted", "qualified", agent.pk),
        ("qualified", "won", agent.pk),
    ]
    assert [event.data["previous_status"] for event in events("lead.status_changed")] == [
        "new",
        "contacted",
        "qualified",
    ]
    assert events("lead.updated") == []  # only the status moved


def test_update_fields_merge_patch_and_conflicts(in_org):
    lead, _ = lead_capture(email="ed@example.com", attributes={"areas": ["A"], "timeline": "asap"})
    other, _ = lead_capture(phone="+15125550999")
    lead = lead_update(lead=lead, name="Ed", attributes={"timeline": None, "bedrooms": 3})
    assert lead.name == "Ed" and lead.attributes == {"areas": ["A"], "bedrooms": 3}
    assert events("lead.updated")[-1].data["lead"]["attributes"] == {"areas": ["A"], "bedrooms": 3}
    with pytest.raises(ApplicationError) as error:
        lead_update(lead=lead, phone="(512) 555-0999")
    assert error.value.code == "conflict" and error.value.attr == "phone"
    count = Event.objects.count()
    lead_update(lead=lead, name="Ed")  # no change, no event
    assert Event.objects.count() == count
    assert other.pk != lead.pk


def test_a_failed_write_leaves_no_lead_and_no_event(in_org, monkeypatch):
    import apps.events.services as event_services

    def failing_hook(event):  # e.g. the outbox failing to write its delivery rows
        raise RuntimeError("outbox down")

    monkeypatch.setattr(event_services, "_hooks", [failing_hook])
    with pytest.raises(RuntimeError):
        lead_capture(email="fail@example.com")
    assert not Lead.objects.exists() and not Event.objects.exists()
    monkeypatch.setattr(event_services, "_hooks", [])
    lead, _ = lead_capture(email="ok@example.com")
    monkeypatch.setattr(event_services, "_hooks", [failing_hook])
    with pytest.raises(RuntimeError):
        lead_update(lead=lead, status="contacted")
    lead.refresh_from_db()
    assert lead.status == "new" and not LeadStatusChange.objects.exists()
    assert [event.type for event in events()] == ["lead.created"]


def test_conversation_links_captures_without_contact_details(in_org):
    lead, created = lead_capture(conversation_id=41, source="chat", attributes={"areas": ["Midtown"]})
    assert created and lead.conversation_id == 41
    same, created = lead_capture(conversation_id=41, email="fi@example.com")
    assert not created and same.pk == lead.pk and same.email == "fi@example.com"


def test_another_organization_sees_none_of_it(org, other_org):
    with tenant_context(org):
        lead_capture(email="gi@example.com")
    with tenant_context(other_org):
        assert not Lead.objects.exists() and not Event.objects.exists()
        _, created = lead_capture(email="gi@example.com")  # same person, another agency: a new lead
        assert created
    with tenant_context(org):
        assert Lead.objects.count() == 1 and Event.objects.count() == 1
