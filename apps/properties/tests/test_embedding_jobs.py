"""Embeddings: written by the actor after commit (real worker), only when the text changed; reindex command."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import tenant_context

from apps.billing.models import Entitlement
from apps.billing.usage import usage_get
from apps.properties.embeddings import content_hash, get_embedder, property_text
from apps.properties.models import Property, PropertyEmbedding
from apps.properties.services import (
    property_create,
    property_delete,
    property_embeddings_refresh,
    property_update,
)
from apps.properties.tests.factories import PropertyFactory

LISTING = {
    "title": "Quiet bungalow",
    "property_type": "house",
    "listing_type": "sale",
    "price": 310000,
    "city": "Austin",
}


def test_the_embed_actor_runs_after_commit_in_the_right_schema(committed_org, jobs_worker):
    with tenant_context(committed_org):
        listing = property_create(**LISTING, description="Shaded porch and a vegetable garden.")
        jobs_worker.drain()
        embedding = PropertyEmbedding.objects.get(property=listing)
        assert embedding.model_name == get_embedder().model_name
        assert embedding.content_hash == content_hash(property_text(listing), embedding.model_name)
        first_hash, first_updated = embedding.content_hash, embedding.updated_at

        property_update(listing=listing, price=299000)  # price is not part of the embedded text
        jobs_worker.drain()
        embedding.refresh_from_db()
        assert embedding.updated_at == first_updated

        property_update(listing=listing, title="Quiet bungalow with a porch")
        jobs_worker.drain()
        embedding.refresh_from_db()
        assert embedding.content_hash != first_hash
        assert embedding.content_hash == content_hash(property_text(listing), embedding.model_name)


@pytest.mark.django_db
def _jobs(callbacks) -> list:
    """The callbacks that enqueue a job (others, like forgetting cached cities, are not embeddings)."""
    return [callback for callback in callbacks if "enqueue_on_commit" in callback.__qualname__]


def test_embed_job_is_queued_on_commit_only_when_text_changes(in_org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as created:
        listing = property_create(**LISTING)
    assert len(_jobs(created)) == 1
    with django_capture_on_commit_callbacks() as price_only:
        property_update(listing=listing, price=1, is_active=False)
    assert _jobs(price_only) == []
    with django_capture_on_commit_callbacks() as retitled:
        property_update(listing=listing, description="Now with solar panels.")
    assert len(_jobs(retitled)) == 1


@pytest.mark.django_db
def test_refresh_skips_unchanged_and_follows_the_model(in_org, monkeypatch):
    listing = PropertyFactory()
    assert property_embeddings_refresh(property_ids=[listing.pk]) == 1
    assert property_embeddings_refresh(property_ids=[listing.pk]) == 0
    assert property_embeddings_refresh(property_ids=[listing.pk], force=True) == 1
    # Another model: every embedding is stale (content_hash includes the model's name).
    embedder = get_embedder()
    monkeypatch.setattr(type(embedder), "model_name", "hashing-v2-test")
    assert property_embeddings_refresh(property_ids=[listing.pk]) == 1
    assert PropertyEmbedding.objects.get().model_name == "hashing-v2-test"


@pytest.mark.django_db
def test_delete_removes_the_embedding(in_org):
    listing = PropertyFactory()
    property_embeddings_refresh(property_ids=[listing.pk])
    property_delete(listing=listing)
    assert not PropertyEmbedding.objects.exists()


@pytest.mark.django_db
def test_reindex_command(org, other_org):
    with tenant_context(org):
        PropertyFactory.create_batch(3)
    with tenant_context(other_org):
        PropertyFactory.create_batch(2)
    out, err = io.StringIO(), io.StringIO()
    call_command("reindex_properties", org.slug, stdout=out, stderr=err)
    assert f"{org.slug}: 3 of 3 listings embedded" in out.getvalue() and org.slug in err.getvalue()
    with tenant_context(other_org):
        assert PropertyEmbedding.objects.count() == 0  # only the named organization
    out = io.StringIO()
    call_command("reindex_properties", stdout=out, stderr=io.StringIO())
    assert f"{org.slug}: 0 of 3" in out.getvalue() and f"{other_org.slug}: 2 of 2" in out.getvalue()
    with pytest.raises(CommandError, match="No organization with slug 'nope'"):
        call_command("reindex_properties", "nope")


@pytest.mark.django_db
def test_listings_usage_counts_every_row_of_the_organization(org, other_org):
    with tenant_context(org):
        PropertyFactory.create_batch(2)
        PropertyFactory(is_active=False)
    assert usage_get(organization=org, key=Entitlement.LISTINGS) == 3
    assert usage_get(organization=other_org, key=Entitlement.LISTINGS) == 0
    with tenant_context(org):
        assert Property.objects.count() == 3
