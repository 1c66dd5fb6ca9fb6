"""Dashboard listings page: roles, filters and pages, background import and reindex with progress, isolation."""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import tenant_context

from apps.core.progress import progress_finish, progress_get, progress_start
from apps.properties.models import Property, PropertyEmbedding
from apps.properties.services import property_create

pytestmark = pytest.mark.django_db
RANK = {"member": 1, "admin": 2, "owner": 3}


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


def browser(org, user=None) -> Client:
    client = Client(HTTP_HOST=org.host)
    if user is not None:
        client.force_login(user)
    return client


def listing(**fields) -> Property:
    defaults = {"title": "Flat", "property_type": "apartment", "listing_type": "rent", "price": 1200, "city": "Austin"}
    return property_create(**{**defaults, **fields})


def upload(rows: list[dict], name: str = "listings.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, json.dumps(rows).encode(), content_type="application/json")


@pytest.mark.parametrize("role", ["member", "admin", "owner"])
def test_members_read_and_only_admins_import_or_reindex(org, people, role):
    client = browser(org, people[role])
    page = client.get("/dashboard/listings/")
    assert page.status_code == 200
    can_change = RANK[role] >= RANK["admin"]
    assert (b'id="reindex"' in page.content) is can_change
    expected = 200 if can_change else 403
    assert client.post("/dashboard/listings/reindex/").status_code == expected
    rows = [{"external_id": "x1", "title": "Loft", "property_type": "apartment", "listing_type": "rent"}]
    imported = client.post("/dashboard/listings/import/", {"file": upload([{**rows[0], "price": 1, "city": "Austin"}])})
    assert imported.status_code == (200 if can_change else 403)


def test_anonymous_is_sent_to_the_login_and_outsiders_are_refused(org, people):
    for method, url in (("get", "/dashboard/listings/"), ("post", "/dashboard/listings/reindex/")):
        response = getattr(browser(org), method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/dashboard/login/?next=")
        assert getattr(browser(org, people["outsider"]), method)(url).status_code == 403
    assert browser(org, people["outsider"]).post("/dashboard/listings/import/").status_code == 403


def test_filters_search_and_pagination(org, people, settings):
    with tenant_context(org):
        listing(title="Sunny loft", city="Austin")
        listing(title="Quiet house", city="Dallas", property_type="house", listing_type="sale", price=300000)
        listing(title="Old shed", city="Dallas", is_active=False)
    member = browser(org, people["member"])
    body = member.get("/dashboard/listings/").content.decode()
    assert all(title in body for title in ("Sunny loft", "Quiet house", "Old shed"))
    dallas = member.get("/dashboard/listings/?city=dallas&is_active=true").content.decode()
    assert "Quiet house" in dallas and "Old shed" not in dallas and "Sunny loft" not in dallas
    houses = member.get("/dashboard/listings/?property_type=house", HTTP_HX_REQUEST="true").content.decode()
    assert "Quiet house" in houses and "Sunny loft" not in houses and "<html" not in houses
    assert "Sunny loft" in member.get("/dashboard/listings/?q=sunny").content.decode()
    assert b"is_active: " in member.get("/dashboard/listings/?is_active=maybe").content

    with tenant_context(org):
        for number in range(51):
            listing(title=f"Unit {number}")
    first = member.get("/dashboard/listings/?city=Austin").content.decode()
    assert "Page 1 of 2" in first and "?city=Austin&page=2" in first
    second = member.get("/dashboard/listings/?city=Austin&page=2").content.decode()
    assert "Page 2 of 2" in second and "Quiet house" not in second


def job_id_in(body: str) -> str:
    return re.search(r'data-job="(\w+)"', body).group(1)


def test_import_starts_a_job_whose_progress_the_page_polls(org, people):
    rows = [{"title": f"Flat {n}", "property_type": "apartment", "listing_type": "rent", "price": 900, "city": "Austin"}
            for n in range(3)]  # fmt: skip
    admin = browser(org, people["admin"])
    # No worker here (and nothing commits): the job stays at its start, as a user sees it at first.
    fragment = admin.post("/dashboard/listings/import/", {"file": upload(rows)}, HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    job_id = job_id_in(body)
    assert fragment.status_code == 200 and "<html" not in body
    assert f'hx-get="/dashboard/listings/progress/{job_id}/"' in body and 'hx-trigger="every 1s"' in body
    assert "0 of 3 rows" in body and 'aria-valuemax="3"' in body
    page = admin.post("/dashboard/listings/import/", {"file": upload(rows)})
    assert page.status_code == 200 and "<html" in page.content.decode() and "0 of 3 rows" in page.content.decode()

    with tenant_context(org):
        progress_finish(job_id, {"created": 3, "updated": 0, "errors": [], "rows": 3, "processed": 3})
    done = admin.get(f"/dashboard/listings/progress/{job_id}/").content.decode()
    assert "<b>3</b> listings added" in done and "3 of 3 rows processed" in done and "hx-trigger" not in done

    broken = admin.post("/dashboard/listings/import/", {"file": SimpleUploadedFile("x.json", b"[not json")})
    assert broken.status_code == 400 and b"Invalid JSON" in broken.content
    missing = admin.post("/dashboard/listings/import/", {})
    assert missing.status_code == 400 and b"This field is required" in missing.content


def test_progress_endpoint_follows_the_import_rules(org, other_org, people):
    with tenant_context(org):
        job_id = progress_start(kind="import", total=5)
    url = f"/dashboard/listings/progress/{job_id}/"
    assert browser(org, people["admin"]).get(url).status_code == 200
    assert browser(org, people["owner"]).get(url).status_code == 200
    assert browser(org, people["member"]).get(url).status_code == 403
    assert browser(org, people["outsider"]).get(url).status_code == 403
    anonymous = browser(org).get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/dashboard/login/?next=")
    # The same id on another organization's host reads nothing there.
    assert browser(other_org, people["outsider"]).get(url).status_code == 404
    assert browser(org, people["admin"]).get("/dashboard/listings/progress/nope/").status_code == 404


def test_import_through_the_worker_reports_created_updated_and_errors_per_row(committed_org, jobs_worker, member_of):
    with tenant_context(committed_org):
        listing(external_id="known", title="Before")
    jobs_worker.drain()
    admin = browser(committed_org, member_of(committed_org, "admin"))
    rows = [
        {"external_id": "new-1", "title": "New flat", "property_type": "apartment", "listing_type": "rent",
         "price": 900.5, "bathrooms": 1.5, "city": "Austin"},
        {"external_id": "known", "title": "After"},
        {"external_id": "bad", "title": "No price", "property_type": "castle", "listing_type": "rent", "city": "X"},
    ]  # fmt: skip
    started = admin.post("/dashboard/listings/import/", {"file": upload(rows)}, HTTP_HX_REQUEST="true")
    assert started.status_code == 200
    job_id = job_id_in(started.content.decode())
    jobs_worker.drain()
    page = admin.get(f"/dashboard/listings/progress/{job_id}/")
    body = page.content.decode()
    assert page.status_code == 200 and 'id="import-result"' in body and "hx-trigger" not in body
    assert "<b>1</b> listings added, <b>1</b> updated, <b>2</b> errors" in body
    assert "Row 3 · property_type" in body and "Row 3 · price: This field is required." in body
    assert "3 of 3 rows processed" in body
    with tenant_context(committed_org):
        job = progress_get(job_id)
        assert job["finished"] and (job["done"], job["total"]) == (3, 3)
        assert Property.objects.get(external_id="known").title == "After"
        created = Property.objects.get(external_id="new-1")
        assert (created.price, created.bathrooms) == (900.5, 1.5)


def test_reindex_job_embeds_every_listing_again(committed_org, jobs_worker, member_of):
    with tenant_context(committed_org):
        first, second = listing(title="One"), listing(title="Two")
    jobs_worker.drain()
    with tenant_context(committed_org):
        PropertyEmbedding.objects.all().delete()
    admin = browser(committed_org, member_of(committed_org, "admin"))
    started = admin.post("/dashboard/listings/reindex/")
    assert started.status_code == 200 and 'id="listings-job"' in started.content.decode()
    job_id = job_id_in(started.content.decode())
    jobs_worker.drain()
    done = admin.get(f"/dashboard/listings/progress/{job_id}/")
    assert b"Reindexed 2 listings." in done.content
    with tenant_context(committed_org):
        assert progress_get(job_id)["total"] == 2
        assert set(PropertyEmbedding.objects.values_list("property_id", flat=True)) == {first.pk, second.pk}


def test_listings_of_another_organization_never_show(org, other_org, people, member_of):
    with tenant_context(org):
        listing(title="Acme penthouse")
    with tenant_context(other_org):
        listing(title="Globex cottage")
    acme = browser(org, people["member"]).get("/dashboard/listings/").content.decode()
    assert "Acme penthouse" in acme and "Globex cottage" not in acme
    globex = browser(other_org, people["outsider"]).get("/dashboard/listings/").content.decode()
    assert "Globex cottage" in globex and "Acme penthouse" not in globex
