"""The catalog's vocabulary: every write path keeps a listing's words and the organization's word list,
where a misspelled query word finds its match (pg_trgm's advice for typo tolerance next to full text)."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.properties.models import Property, SearchWord
from apps.properties.selectors import property_search
from apps.properties.services import property_create, property_import, property_search_words, property_update

pytestmark = pytest.mark.django_db


def vocabulary() -> set[str]:
    return set(SearchWord.objects.values_list("word", flat=True))


def ranked(words: list[str]) -> list[int]:
    """The trigram ranking alone: ids, most alike first."""
    from apps.core.sql import bound_rows
    from apps.properties.filters import filters_sql
    from apps.properties.search_sql import trigram_ranking

    ranking = trigram_ranking(filters_sql({"is_active": True}), words, 40)
    return [pk for (pk,) in bound_rows(f"SELECT id FROM ({ranking.sql}) AS ranked ORDER BY r", ranking.params)]


def test_a_listing_words_are_its_search_text_words():
    assert property_search_words("sunny 2-bed loft, rooftop gym; 2nd floor  Zilker Austin 78704") == [
        "2nd", "austin", "bed", "floor", "gym", "loft", "rooftop", "sunny", "zilker",
    ]  # fmt: skip
    assert property_search_words("a " + "x" * 101) == []  # no word a visitor types


def test_create_update_and_import_add_to_the_vocabulary(in_org):
    listing = property_create(
        title="Craftsman bungalow", property_type="house", listing_type="sale", price=410000, city="Portland",
        features=["clawfoot tub"],
    )  # fmt: skip
    assert {"craftsman", "bungalow", "portland", "clawfoot", "tub", "house"} <= vocabulary()
    assert set(listing.search_words) == {"craftsman", "bungalow", "house", "portland", "clawfoot", "tub"}
    property_update(listing=listing, features=["wraparound porch"])
    assert {"wraparound", "porch"} <= vocabulary()
    assert "clawfoot" not in Property.objects.get(pk=listing.pk).search_words
    result = property_import(
        rows=[
            {"external_id": "a", "title": "Adobe casita", "property_type": "house", "listing_type": "rent",
             "price": 1900, "city": "Santa Fe"},
            {"external_id": "b", "title": "Broken", "property_type": "castle", "listing_type": "rent",
             "price": 1, "city": "Nowhere"},
        ]
    )  # fmt: skip
    assert result.created == 1 and len(result.errors) == 1
    words = vocabulary()
    assert {"adobe", "casita", "santa"} <= words and "broken" not in words  # a bad row adds nothing


def test_a_word_no_listing_holds_any_more_matches_nothing(in_org):
    listing = property_create(
        title="Houseboat on the marina", property_type="condo", listing_type="sale", price=250000, city="Seattle"
    )
    property_update(listing=listing, title="Floating home on the marina")
    assert "houseboat" in vocabulary()  # kept: harmless
    assert ranked(["housebaot"]) == []
    assert ranked(["floatng"]) == [listing.pk]


def test_a_misspelled_word_is_compared_with_the_vocabulary_not_every_listing(small_catalog):
    from apps.properties.filters import filters_sql
    from apps.properties.search_sql import trigram_ranking

    ranking = trigram_ranking(filters_sql({"is_active": True}), ["firplace", "garaje"], 40)
    assert "word_similarity(q.word, v.word)" in ranking.sql and "p.search_text" not in ranking.sql
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the index must be usable, as on a big catalog
        cursor.execute(f"EXPLAIN SELECT * FROM ({ranking.sql}) AS ranked", ranking.params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert ranked(["firplace", "garaje"])[0] == small_catalog["fireplace-house"]
    assert "search_word_trgm_idx" in plan and "property_search_words_idx" in plan, plan


def test_vocabularies_are_per_organization(org, other_org):
    from django_tenants.utils import tenant_context

    with tenant_context(org):
        property_create(title="Yurt retreat", property_type="house", listing_type="rent", price=900, city="Taos")
    with tenant_context(other_org):
        assert "yurt" not in vocabulary()
        assert property_search(query="yurt retreet", limit=3) == []
    with tenant_context(org):
        assert "yurt" in vocabulary()
        assert [hit.property.title for hit in property_search(query="yurt retreet", limit=3)] == ["Yurt retreat"]


def test_a_word_the_catalog_holds_matches_itself_and_only_an_unknown_one_is_compared(in_org):
    park = property_create(
        title="Cottage by the park", property_type="house", listing_type="sale", price=1, city="Bend"
    )
    parking = property_create(
        title="Loft with parking", property_type="apartment", listing_type="sale", price=1, city="Bend"
    )
    # "park" is no typo: the listing that says it, not the one that says "parking" (0.8 alike).
    assert ranked(["park"]) == [park.pk]
    # An unknown word is compared with the vocabulary: both words are as alike to it (4 of its 6 trigrams).
    assert sorted(ranked(["parkk"])) == [park.pk, parking.pk]


def test_a_turn_reads_the_shared_catalog_once_and_a_listing_change_at_once(
    in_org, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from apps.properties import selectors

    reads = []
    get = cache.get
    monkeypatch.setattr(cache, "get", lambda key, *args: reads.append(key) or get(key, *args))
    for _ in range(3):  # the parser's cities twice, the size once: as a chat turn asks
        selectors.property_cities()
        selectors.property_catalog_size()
    assert len(reads) == 1
    with django_capture_on_commit_callbacks(execute=True):
        property_create(title="Adobe", property_type="house", listing_type="sale", price=1, city="Taos")
    assert "Taos" in selectors.property_cities()  # the service forgot it on commit, here and in the cache
    assert len(reads) == 2


def test_an_unknown_word_finds_its_near_words_through_the_trigram_index(in_org):
    # At pg_trgm's declared cost (1, an equality's) the planner compared an unknown word with every
    # word of a few hundred (0.3 ms) rather than ask the index (0.02 ms); core/0002 declares the real cost.
    import psycopg

    from apps.properties.filters import filters_sql
    from apps.properties.search_sql import trigram_ranking

    SearchWord.objects.bulk_create(
        SearchWord(word=f"{stem}{n}") for stem in ("porch", "garden", "loft") for n in range(100)
    )
    ranking = trigram_ranking(filters_sql({"is_active": True}), ["gardne"], 40)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE properties_searchword")
        bound = psycopg.Cursor(cursor.connection)
        bound.execute("SET LOCAL plan_cache_mode = force_generic_plan")  # as the prepared search runs
        bound.execute(f"EXPLAIN SELECT * FROM ({ranking.sql}) AS ranked", ranking.params)
        plan = "\n".join(row[0] for row in bound.fetchall())
    assert "Bitmap Index Scan on search_word_trgm_idx" in plan, plan
