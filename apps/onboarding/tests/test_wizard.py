"""Sign-up, login and the five-step wizard: validation next to each field, saving, going back, resuming, the end."""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django_tenants.utils import tenant_context

from apps.accounts.models import Membership, User
from apps.onboarding.models import OnboardingState
from apps.tenants.models import Organization

pytestmark = pytest.mark.django_db

PASSWORD = "a-Long-pass-2026"


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    from apps.chat.llm import chat_model_reset

    cache.clear()
    settings.OPENAI_API_KEY = ""
    chat_model_reset()
    yield
    chat_model_reset()


def public() -> Client:
    return Client(HTTP_HOST="localhost")


@pytest.fixture
def newcomer() -> Client:
    client = public()
    response = client.post("/signup/", {"email": "Jane@Sunrise.test", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/onboarding/"
    return client


BRAND = {"name": "Sunrise Homes", "slug": "sunrise", "primary_color": "#aa3300", "logo_url": ""}
PERSONA = {"persona_name": "Sol", "persona_tone": "professional", "persona_instructions": "Mention free valuations.",
           "greeting": "Hi, I'm Sol from Sunrise!"}  # fmt: skip


def state_of(email="jane@sunrise.test") -> OnboardingState:
    return OnboardingState.objects.select_related("organization").get(user__email=email)


def test_signup_validates_each_field(newcomer):
    client = public()
    bad = client.post("/signup/", {"email": "not-an-email", "password": "123"})
    body = bad.content.decode()
    assert bad.status_code == 400 and 'id="email-error"' in body and 'id="password-error"' in body
    taken = client.post("/signup/", {"email": "jane@sunrise.test", "password": PASSWORD})
    assert taken.status_code == 400 and "already registered" in taken.content.decode()
    # A valid address longer than the column (254) was a 500.
    address = "a" * 64 + "@" + ".".join(letter * 60 for letter in "bcde") + ".com"  # 312 characters, valid
    long = client.post("/signup/", {"email": address, "password": PASSWORD})
    assert long.status_code == 400 and 'id="email-error"' in long.content.decode()
    assert User.objects.filter(email="jane@sunrise.test").count() == 1


def test_login_is_throttled_after_failures(newcomer, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    client = public()
    assert client.post("/login/", {"email": "jane@sunrise.test", "password": "wrong"}).status_code == 200
    client.post("/login/", {"email": "jane@sunrise.test", "password": "wrong"})
    blocked = client.post("/login/", {"email": "jane@sunrise.test", "password": PASSWORD})
    assert blocked.status_code == 429
    cache.clear()
    ok = client.post("/login/", {"email": "jane@sunrise.test", "password": PASSWORD})
    assert ok.status_code == 302 and ok["Location"] == "/onboarding/"


def test_anonymous_is_sent_to_signup_and_the_wizard_is_not_on_tenant_hosts(org):
    response = public().get("/onboarding/step1/")
    assert response.status_code == 302 and response["Location"] == "/signup/?next=%2Fonboarding%2Fstep1%2F"
    assert Client(HTTP_HOST=org.host).get("/onboarding/").status_code == 404


def test_step1_validates_then_creates_the_organization(newcomer, org):
    assert newcomer.get("/onboarding/")["Location"] == "/onboarding/step1/"
    # A later step cannot be skipped to.
    assert newcomer.get("/onboarding/step3/")["Location"] == "/onboarding/"
    bad = newcomer.post("/onboarding/step1/", {**BRAND, "name": "", "slug": "Bad Slug!", "primary_color": "blue"})
    body = bad.content.decode()
    assert bad.status_code == 400 and 'id="name-error"' in body and 'id="slug-error"' in body
    assert 'id="primary_color-error"' in body and "#RRGGBB" in body
    taken = newcomer.post("/onboarding/step1/", {**BRAND, "slug": "acme"})
    assert taken.status_code == 400 and "already taken" in taken.content.decode()
    reserved = newcomer.post("/onboarding/step1/", {**BRAND, "slug": "dashboard"})
    assert reserved.status_code == 400 and "reserved" in reserved.content.decode()
    assert not Organization.objects.filter(slug="sunrise").exists()

    saved = newcomer.post("/onboarding/step1/", BRAND)
    assert saved.status_code == 302 and saved["Location"] == "/onboarding/step2/"
    organization = Organization.objects.get(slug="sunrise")
    assert (organization.name, organization.primary_color) == ("Sunrise Homes", "#aa3300")
    assert Membership.objects.get(organization=organization).user.email == "jane@sunrise.test"
    assert organization.subscription.status == "trialing"
    assert state_of().completed_step == 1 and state_of().organization == organization


def test_slug_check_answers_as_the_user_types(newcomer, org):
    free = newcomer.get("/onboarding/slug-check/?slug=sunrise", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-ok="true"' in free and "sunrise.localhost is available" in free
    taken = newcomer.get("/onboarding/slug-check/?slug=acme", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-ok="false"' in taken and "already taken" in taken
    invalid = newcomer.get("/onboarding/slug-check/?slug=-x", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-ok="false"' in invalid


def test_persona_validation_preview_and_save(newcomer):
    newcomer.post("/onboarding/step1/", BRAND)
    page = newcomer.get("/onboarding/step2/").content.decode()
    assert 'value="Ava"' in page and 'href="/onboarding/step1/"' in page  # defaults, and a way back
    bad = newcomer.post("/onboarding/step2/", {**PERSONA, "persona_name": "", "persona_tone": "grumpy"})
    body = bad.content.decode()
    assert bad.status_code == 400 and 'id="persona_name-error"' in body and 'id="persona_tone-error"' in body
    preview = newcomer.post("/onboarding/step2/preview/", {**PERSONA, "question": "hello"}, HTTP_HX_REQUEST="true")
    assert preview.status_code == 200 and "Hi, I&#x27;m Sol from Sunrise!" in preview.content.decode()
    asked = newcomer.post("/onboarding/step2/preview/", {**PERSONA, "question": "A flat in Austin to rent?"})
    assert "no listings" in asked.content.decode()
    assert newcomer.post("/onboarding/step2/", PERSONA)["Location"] == "/onboarding/step3/"
    organization = state_of().organization
    organization.refresh_from_db()
    assert (organization.persona_name, organization.greeting) == ("Sol", "Hi, I'm Sol from Sunrise!")


def _through_step2(client):
    client.post("/onboarding/step1/", BRAND)
    client.post("/onboarding/step2/", PERSONA)


def test_channels_validate_origins_and_a_page_id_or_skip(newcomer):
    _through_step2(newcomer)
    bad = newcomer.post("/onboarding/step3/", {"allowed_origins": "ftp://nope"})
    assert bad.status_code == 400 and "not an origin" in bad.content.decode()
    bad_page = newcomer.post(
        "/onboarding/step3/", {"allowed_origins": "", "platform": "facebook", "page_id": "abc", "access_token": "t"}
    )
    assert bad_page.status_code == 400 and 'id="page_id-error"' in bad_page.content.decode()
    assert state_of().completed_step == 2
    ok = newcomer.post("/onboarding/step3/", {"allowed_origins": "https://www.sunrise.test/\nhttp://127.0.0.1:9000"})
    assert ok["Location"] == "/onboarding/step4/"
    assert state_of().organization.allowed_origins == ["https://www.sunrise.test", "http://127.0.0.1:9000"]


def test_a_page_that_cannot_be_connected_leaves_the_step_unsaved(newcomer, settings):
    # The origins were saved before the connection failed (here: no key to encrypt the page's token).
    settings.DEBUG, settings.FIELD_ENCRYPTION_KEY = False, ""
    _through_step2(newcomer)
    response = newcomer.post(
        "/onboarding/step3/",
        {"allowed_origins": "https://half.example", "platform": "facebook", "page_id": "123", "access_token": "t"},
    )
    assert response.status_code == 400
    state = state_of()
    assert state.completed_step == 2 and state.organization.allowed_origins == []


def test_plan_checkout_without_stripe_says_so_and_the_trial_continues(newcomer):
    _through_step2(newcomer)
    newcomer.post("/onboarding/step3/", {"allowed_origins": ""})
    page = newcomer.get("/onboarding/step4/").content.decode()
    assert all(f"Subscribe to {name}" in page for name in ("Starter", "Pro", "Agency"))
    checkout = newcomer.post("/onboarding/step4/", {"plan": "pro"})
    assert checkout.status_code == 400 and "Billing is not set up" in checkout.content.decode()
    assert newcomer.post("/onboarding/step4/", {"plan": "pr\x00o"}).status_code == 400  # was a 500
    assert state_of().completed_step == 3
    assert newcomer.post("/onboarding/step4/", {"plan": "trial"})["Location"] == "/onboarding/step5/"
    assert state_of().data["plan"] == "trial"


def _through_step4(client):
    _through_step2(client)
    client.post("/onboarding/step3/", {"allowed_origins": ""})
    client.post("/onboarding/step4/", {"plan": "trial"})


@pytest.fixture
def committed_newcomer(jobs_worker, newcomer):
    """The newcomer with committed rows, next to a real worker; the organization's schema is dropped after."""
    yield newcomer
    for organization in Organization.objects.filter(slug="sunrise"):
        organization.delete(force_drop=True)


def job_id_in(body: str) -> str:
    return re.search(r'data-job="(\w+)"', body).group(1)


@pytest.mark.django_db(transaction=True)
def test_import_a_file_in_the_background_reports_bad_rows_by_number(committed_newcomer, jobs_worker):
    from django.core.files.uploadedfile import SimpleUploadedFile

    newcomer = committed_newcomer
    _through_step4(newcomer)
    nothing = newcomer.post("/onboarding/step5/", {"action": "upload"})
    assert nothing.status_code == 400 and 'id="file-error"' in nothing.content.decode()
    broken = SimpleUploadedFile("listings.json", b"[{oops", content_type="application/json")
    assert "Invalid JSON" in newcomer.post("/onboarding/step5/", {"action": "upload", "file": broken}).content.decode()
    rows = [
        {"title": "Loft", "property_type": "apartment", "listing_type": "rent", "price": "2100", "city": "Austin"},
        {"title": "No price", "property_type": "house", "listing_type": "sale", "city": "Austin"},
    ]
    upload = SimpleUploadedFile("listings.json", json.dumps(rows).encode(), content_type="application/json")
    started = newcomer.post("/onboarding/step5/", {"action": "upload", "file": upload}, HTTP_HX_REQUEST="true")
    assert started.status_code == 200 and "<html" not in started.content.decode()
    job_id = job_id_in(started.content.decode())
    jobs_worker.drain()
    result = newcomer.get(f"/onboarding/step5/progress/{job_id}/")
    body = result.content.decode()
    assert result.status_code == 200 and "<b>1</b> listings added" in body and "Row 2 · price" in body
    assert "2 of 2 rows processed" in body and "hx-trigger" not in body
    with tenant_context(state_of().organization):
        from apps.properties.models import Property

        assert list(Property.objects.values_list("title", flat=True)) == ["Loft"]
    assert state_of().completed_step == 5 and state_of().data["imported"]["created"] == 1


@pytest.mark.django_db(transaction=True)
def test_sample_catalog_loads_through_the_job_within_the_plan_then_the_end_page(committed_newcomer, jobs_worker):
    newcomer = committed_newcomer
    _through_step4(newcomer)
    page = newcomer.post("/onboarding/step5/", {"action": "sample"}).content.decode()
    job_id = job_id_in(page)
    assert "<html" in page and 'id="import-result"' in page
    jobs_worker.drain()
    result = newcomer.get(f"/onboarding/step5/progress/{job_id}/").content.decode()
    # The whole sample catalog fits the starter trial: a new agency sees every listing it loaded.
    assert "<b>252</b> listings added" in result and "rows not imported" not in result
    assert "252 of 252 rows processed" in result
    assert newcomer.get("/onboarding/")["Location"] == "/onboarding/done/"
    done = newcomer.get("/onboarding/done/").content.decode()
    assert "&lt;script src=&quot;http://localhost/embed/sunrise.js&quot; async&gt;&lt;/script&gt;" in done
    assert '<script src="/embed/sunrise.js" async></script>' in done
    assert "http://sunrise.localhost/dashboard/" in done


def test_step5_shows_progress_first_and_only_its_owner_reads_it(newcomer, org):
    _through_step4(newcomer)
    # Nothing commits here, so no job runs: the page shows the bar polling at the start.
    fragment = newcomer.post("/onboarding/step5/", {"action": "sample"}, HTTP_HX_REQUEST="true").content.decode()
    job_id = job_id_in(fragment)
    url = f"/onboarding/step5/progress/{job_id}/"
    assert f'hx-get="{url}"' in fragment and 'hx-trigger="every 1s"' in fragment and "0 of 252 rows" in fragment
    assert "0 of 252 rows" in newcomer.get(url).content.decode()
    assert state_of().completed_step == 4  # not done until the import has finished

    anonymous = public().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/signup/?next=")
    assert Client(HTTP_HOST=org.host).get(url).status_code == 404  # the wizard lives on the public host only
    # Another agency's owner at the same step: the id means nothing in its organization.
    other = public()
    other.post("/signup/", {"email": "sam@dawn.test", "password": PASSWORD})
    other.post("/onboarding/step1/", {**BRAND, "name": "Dawn Homes", "slug": "dawn"})
    other.post("/onboarding/step2/", PERSONA)
    other.post("/onboarding/step3/", {"allowed_origins": ""})
    other.post("/onboarding/step4/", {"plan": "trial"})
    assert other.get(url).status_code == 404
    # A user not yet at step 5 goes back to the wizard.
    early = public()
    early.post("/signup/", {"email": "early@bird.test", "password": PASSWORD})
    assert early.get(url)["Location"] == "/onboarding/"


def test_going_back_keeps_progress_and_resume_goes_to_the_furthest_step(newcomer):
    _through_step2(newcomer)
    back = newcomer.get("/onboarding/step1/").content.decode()
    assert 'value="sunrise"' in back and "disabled" in back
    renamed = newcomer.post("/onboarding/step1/", {**BRAND, "name": "Sunrise Realty", "slug": "ignored"})
    assert renamed["Location"] == "/onboarding/step2/"
    organization = state_of().organization
    assert (organization.name, organization.slug) == ("Sunrise Realty", "sunrise")
    assert state_of().completed_step == 2
    # Another browser, later: logging in resumes at step 3.
    later = public()
    later.post("/login/", {"email": "jane@sunrise.test", "password": PASSWORD})
    assert later.get("/onboarding/")["Location"] == "/onboarding/step3/"


def test_the_dashboard_link_logs_the_owner_in_once(newcomer):
    _through_step4(newcomer)
    newcomer.post("/onboarding/step5/", {"action": "skip"})
    link = newcomer.post("/onboarding/dashboard/")
    assert link.status_code == 302
    match = re.match(r"^http://sunrise\.localhost/dashboard/login/link/\?token=(.+)$", link["Location"])
    assert match
    tenant = Client(HTTP_HOST="sunrise.localhost")
    assert tenant.get(link["Location"].split("localhost", 1)[1])["Location"] == "/dashboard/"
    assert tenant.get("/dashboard/").status_code == 200
    again = Client(HTTP_HOST="sunrise.localhost").get(link["Location"].split("localhost", 1)[1], follow=True)
    assert b"used already" in again.content and again.request["PATH_INFO"] == "/dashboard/login/"


def test_a_link_for_another_organization_or_expired_fails(newcomer, org, settings):
    from apps.onboarding.services import dashboard_login_token

    _through_step4(newcomer)
    token = dashboard_login_token(
        user=User.objects.get(email="jane@sunrise.test"), organization=state_of().organization
    )
    wrong_host = Client(HTTP_HOST=org.host).get(f"/dashboard/login/link/?token={token}", follow=True)
    assert b"another organization" in wrong_host.content
    settings.ONBOARDING_LOGIN_LINK_MAX_AGE = -1
    expired = Client(HTTP_HOST="sunrise.localhost").get(f"/dashboard/login/link/?token={token}", follow=True)
    assert b"expired" in expired.content
