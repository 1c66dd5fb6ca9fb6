"""Dashboard campaigns page: roles, the welcome sequence listed, step edits with errors, a blast to filtered leads."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django_tenants.utils import tenant_context

from apps.campaigns.models import WELCOME_KEY, Campaign, CampaignStep, Enrollment
from apps.campaigns.services import campaign_create, campaign_step_create
from apps.leads.services import lead_capture

pytestmark = pytest.mark.django_db
RANK = {"member": 1, "admin": 2, "owner": 3}


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    cache.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def people(org, other_org, member_of):
    return {
        "member": member_of(org, "member"),
        "admin": member_of(org, "admin"),
        "owner": member_of(org, "owner", email="owner@acme.test"),
        "outsider": member_of(other_org, "owner", email="boss@globex.test"),
    }


@pytest.fixture
def blast(org):
    with tenant_context(org):
        campaign = campaign_create(organization=org, name="Spring open house", kind="blast")
        step = campaign_step_create(campaign=campaign, subject="Open house, {{ lead.name }}", body="Come by!")
    return campaign, step


def browser(org, user=None) -> Client:
    client = Client(HTTP_HOST=org.host)
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("role", ["member", "admin", "owner"])
def test_members_read_and_only_admins_edit_or_send(org, people, blast, role):
    campaign, step = blast
    client = browser(org, people[role])
    listing = client.get("/dashboard/campaigns/")
    assert listing.status_code == 200 and b"Spring open house" in listing.content
    detail = client.get(f"/dashboard/campaigns/{campaign.pk}/")
    assert detail.status_code == 200 and b"Open house, {{ lead.name }}" in detail.content
    can_change = RANK[role] >= RANK["admin"]
    assert (b'id="send"' in detail.content) is can_change
    expected = 302 if can_change else 403
    edit = {f"step-{step.pk}-subject": "Hi", f"step-{step.pk}-body": "Body", f"step-{step.pk}-delay_days": 0}
    assert client.post(f"/dashboard/campaigns/{campaign.pk}/steps/{step.pk}/", edit).status_code == expected
    assert client.post(f"/dashboard/campaigns/{campaign.pk}/send/", {}).status_code == expected
    assert client.post("/dashboard/campaigns/new/", {"name": "X", "kind": "blast"}).status_code == expected


def test_anonymous_is_sent_to_the_login_and_outsiders_are_refused(org, people, blast):
    campaign, _ = blast
    for method, url in (
        ("get", "/dashboard/campaigns/"),
        ("get", f"/dashboard/campaigns/{campaign.pk}/"),
        ("post", f"/dashboard/campaigns/{campaign.pk}/send/"),
    ):
        response = getattr(browser(org), method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/dashboard/login/?next=")
        assert getattr(browser(org, people["outsider"]), method)(url).status_code == 403


def test_the_welcome_sequence_is_listed_and_its_steps_are_edited(org, people):
    admin = browser(org, people["admin"])
    assert admin.get("/dashboard/campaigns/").status_code == 200
    with tenant_context(org):
        welcome = Campaign.objects.get(key=WELCOME_KEY)
        first = welcome.steps.order_by("order").first()
    url = f"/dashboard/campaigns/{welcome.pk}/steps/{first.pk}/"
    prefix = f"step-{first.pk}-"
    saved = admin.post(
        url, {prefix + "subject": "Welcome!", prefix + "body": "Hello {{ lead.name }}", prefix + "delay_days": 1}
    )
    assert saved.status_code == 302
    with tenant_context(org):
        first.refresh_from_db()
    assert (first.subject, first.body, first.delay_days) == ("Welcome!", "Hello {{ lead.name }}", 1)
    broken = admin.post(url, {prefix + "subject": "Hi {% if %}", prefix + "body": "x", prefix + "delay_days": 0})
    assert broken.status_code == 400 and b"Template error" in broken.content
    negative = admin.post(url, {prefix + "subject": "Hi", prefix + "body": "x", prefix + "delay_days": -1})
    assert negative.status_code == 400 and f'id="{prefix}delay_days-error"'.encode() in negative.content
    added = admin.post(
        f"/dashboard/campaigns/{welcome.pk}/steps/", {"new-subject": "Last", "new-body": "Bye", "new-delay_days": 9}
    )
    assert added.status_code == 302
    with tenant_context(org):
        assert welcome.steps.order_by("order").last().subject == "Last"
    assert admin.get(f"/dashboard/campaigns/{welcome.pk}/steps/999999/").status_code == 405
    assert admin.post(f"/dashboard/campaigns/{welcome.pk}/steps/999999/", {}).status_code == 404


def test_create_a_blast_and_send_it_to_the_filtered_leads(org, people):
    with tenant_context(org):
        lead_capture(email="ana@example.com", name="Ana", source="chat")
        lead_capture(email="bob@example.com", name="Bob", source="facebook")
    admin = browser(org, people["admin"])
    created = admin.post("/dashboard/campaigns/new/", {"name": "June news", "kind": "blast"})
    assert created.status_code == 302
    with tenant_context(org):
        campaign = Campaign.objects.get(name="June news")
    url = f"/dashboard/campaigns/{campaign.pk}/"
    assert created["Location"] == url
    no_steps = admin.post(url + "send/", {"source": "facebook"})
    assert no_steps.status_code == 400 and b"no steps" in no_steps.content
    admin.post(url + "steps/", {"new-subject": "News", "new-body": "Hello", "new-delay_days": 0})
    sent = admin.post(url + "send/", {"source": "facebook"}, follow=True)
    assert b"Sending to 1 leads" in sent.content
    with tenant_context(org):
        assert list(Enrollment.objects.filter(campaign=campaign).values_list("lead__email", flat=True)) == [
            "bob@example.com"
        ]
        assert Campaign.objects.get(pk=campaign.pk).status == "active"
    bad = admin.post(url + "send/", {"status": "bogus"})
    assert bad.status_code == 400 and b'id="status-error"' in bad.content
    nameless = admin.post("/dashboard/campaigns/new/", {"name": "", "kind": "blast"})
    assert nameless.status_code == 400 and b'id="name-error"' in nameless.content


def test_campaigns_of_another_organization_never_show(org, other_org, people, blast):
    campaign, step = blast
    # Ids are per schema: the same number on another host is that organization's own campaign, if any.
    outsider_home = browser(other_org, people["outsider"])
    assert b"Spring open house" not in outsider_home.get("/dashboard/campaigns/").content
    page = outsider_home.get(f"/dashboard/campaigns/{campaign.pk}/")
    assert page.status_code in (200, 404) and b"Spring open house" not in page.content
    with tenant_context(other_org):
        assert not CampaignStep.objects.filter(subject=step.subject).exists()
