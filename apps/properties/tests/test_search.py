"""Hybrid search, offline: a descriptive question finds the right listing first; typos; scores; the API shape."""

from __future__ import annotations

import pytest

from apps.properties.embeddings import get_embedder
from apps.properties.models import Property
from apps.properties.selectors import (
    EXACT_SCAN_MAX_ROWS,
    property_list,
    property_search,
    property_search_plan,
    vector_ranked_ids,
)

pytestmark = pytest.mark.django_db

QUESTIONS = [
    ("I want to wake up to the sound of the waves with views of the ocean", "ocean-condo"),
    ("somewhere to rent that welcomes my dog, with a fenced yard", "dog-cottage"),
    ("a wood-burning fireplace and space for two cars", "fireplace-house"),
    ("walk to the Metrorail in Brickell", "brickell-studio"),
    ("skyline views and a wraparound balcony", "skyline-penthouse"),
    ("private rooftop terrace with mountain views", "mountain-townhouse"),
    ("shop with display windows and lots of foot traffic", "corner-retail"),
    ("level parcel with water and power, ready to build on", "buildable-lot"),
    ("loft with a gym on the roof", "downtown-loft"),
    ("3 bed house in Austin under $500k with a pool", "pool-house"),
]


@pytest.mark.parametrize(("question", "external_id"), QUESTIONS, ids=[q for q, _ in QUESTIONS])
def test_a_descriptive_question_finds_the_right_listing_first(small_catalog, question, external_id):
    hits = property_search(query=question, limit=3)
    assert hits, question
    assert hits[0].property.external_id == external_id, [hit.property.external_id for hit in hits]
    assert hits[0].score > 0


@pytest.mark.parametrize(
    ("question", "external_id"),
    [
        ("firplace and garaje", "fireplace-house"),
        ("penthuose with skylne views", "skyline-penthouse"),
        ("oceanfrnt condo by the beech", "ocean-condo"),
    ],
)
def test_typos_still_find_the_listing(small_catalog, question, external_id):
    hits = property_search(query=question, limit=3)
    assert hits[0].property.external_id == external_id, [hit.property.external_id for hit in hits]


def test_scores_are_descending_floats(small_catalog):
    hits = property_search(query="balcony with views", limit=5)
    scores = [hit.score for hit in hits]
    assert len(hits) == 5 and all(isinstance(score, float) for score in scores)
    assert scores == sorted(scores, reverse=True)


def test_the_question_becomes_filters_plus_text(small_catalog):
    plan = property_search_plan(query="3 bed house in Austin under $500k with a pool")
    assert plan.filters["city"] == "Austin"
    assert plan.filters["property_type"] == "house"
    assert plan.filters["min_bedrooms"] == 3
    assert plan.filters["max_price"] == 500000
    assert plan.filters["is_active"] is True
    assert "pool" in plan.text and "Austin" not in plan.text


def test_unknown_city_names_stay_text_not_filters(small_catalog):
    plan = property_search_plan(query="condo in Atlantis")
    assert "city" not in plan.filters


def test_an_empty_question_lists_the_newest_matching_listings(small_catalog):
    hits = property_search(query="", filters={"city": "Seattle"}, limit=5)
    assert [hit.property.external_id for hit in hits] == ["skyline-penthouse", "dog-cottage", "corner-retail"]
    assert {hit.score for hit in hits} == {0.0}


def test_limit_is_bounded(small_catalog):
    from apps.core.errors import ApplicationError

    with pytest.raises(ApplicationError):
        property_search(query="house", limit=0)
    with pytest.raises(ApplicationError):
        property_search(query="house", limit=51)


def test_index_and_exact_strategies_agree_on_a_small_catalog(small_catalog):
    vector = get_embedder().embed(["balcony with city views"])[0]
    base = property_list(filters={"is_active": True})
    exact = vector_ranked_ids(base, vector, 10, strategy="exact")
    indexed = vector_ranked_ids(base, vector, 10, strategy="index")
    assert len(exact) == len(indexed) == 10
    assert exact[:3] == indexed[:3]


def test_the_index_strategy_is_served_by_the_hnsw_index(small_catalog):
    # The query must order by exactly the index's expression (the vector cast to halfvec(n)), or the
    # planner quietly falls back to sorting every row.
    from django.db import connection, transaction

    from apps.properties.selectors import vector_query

    vector = get_embedder().embed(["garden"])[0]
    sql, params = vector_query(property_list(), vector, 5, exact=False, model_name="hashing-v1").query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using property_embedding_hnsw" in plan, plan


def test_filtered_index_scan_returns_every_match(small_catalog):
    # 2 of 10 listings match: without iterative scans HNSW would return fewer rows than match.
    vector = get_embedder().embed(["garden"])[0]
    base = property_list(filters={"city": "Miami"})
    assert len(vector_ranked_ids(base, vector, 10, strategy="index")) == 2
    assert len(vector_ranked_ids(base, vector, 10, strategy="auto")) == 2


def test_auto_on_a_big_catalog_counts_and_scans_in_one_statement(small_catalog, monkeypatch):
    # A catalog bigger than the threshold (here 3 listings) counts the filter's matches first: few →
    # exact, in the same statement as the count; many → the index; none → nothing.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.properties import selectors

    monkeypatch.setattr(selectors, "EXACT_SCAN_MAX_ROWS", 3)
    vector = get_embedder().embed(["garden"])[0]
    miami = property_list(filters={"city": "Miami"})
    selectors.property_catalog_size()  # the catalog's size is read once and remembered
    with CaptureQueriesContext(connection) as queries:
        found = vector_ranked_ids(miami, vector, 10, strategy="auto")
    assert len(found) == 2 and found == vector_ranked_ids(miami, vector, 10, strategy="exact")
    assert len(queries.captured_queries) == 1 and "count(" in queries.captured_queries[0]["sql"]
    with CaptureQueriesContext(connection) as queries:
        found = vector_ranked_ids(property_list(), vector, 5, strategy="auto")
    assert len(found) == 5 and any("hnsw.iterative_scan" in query["sql"] for query in queries.captured_queries)
    assert vector_ranked_ids(property_list(filters={"city": "Atlantis"}), vector, 5, strategy="auto") == []


def test_small_catalogs_take_the_exact_path(small_catalog, django_assert_max_num_queries):
    assert Property.objects.count() <= EXACT_SCAN_MAX_ROWS
    vector = get_embedder().embed(["garden"])[0]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        vector_ranked_ids(property_list(), vector, 5)
    assert not any("hnsw.iterative_scan" in query["sql"] for query in queries.captured_queries)


def rrf_reference(rankings: list[list[int]], k: int = 60) -> dict[int, float]:
    """Reciprocal rank fusion as its paper defines it: each list adds 1 / (k + rank) to the ids it ranks."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, pk in enumerate(ranking, start=1):
            scores[pk] = scores.get(pk, 0.0) + 1.0 / (k + rank)
    return scores


def test_rrf_rewards_agreement(small_catalog):
    from apps.properties.filters import filters_sql
    from apps.properties.search_sql import fused_search, ids_ranking

    a, b, c = sorted(small_catalog.values())[:3]
    lists = [[a, b, c], [b, a], [b]]
    rankings = [ids_ranking(ids, name=f"r{n}") for n, ids in enumerate(lists)]
    hits = fused_search(filters_sql({}), rankings, limit=5)
    expected = rrf_reference(lists)
    assert [(hit.pk, score) for hit, score in hits[:3]] == sorted(expected.items(), key=lambda item: -item[1])
    assert hits[0][1] == 1 / 62 + 1 / 61 + 1 / 61 and hits[2][1] == 1 / 63  # the same floats as Python's
    # The rest fill up to the limit, newest first, unscored.
    assert [score for _, score in hits[3:]] == [None, None]


@pytest.mark.parametrize("question", [question for question, _ in QUESTIONS] + ["firplace and garaje"])
def test_the_fused_scores_are_rrf_of_the_rankings_run_alone(small_catalog, question):
    # The statement fuses in SQL; each ranking run on its own and fused in Python must give the
    # same listings in the same order, with the same scores to the last bit.
    from apps.core.sql import bound_rows
    from apps.properties import search_sql
    from apps.properties.filters import filters_sql
    from apps.properties.selectors import _words

    plan = property_search_plan(query=question)
    where = filters_sql(plan.filters)
    words = _words(plan.text)
    vector = get_embedder().embed([plan.text])[0]
    rankings = [
        search_sql.vector_ranking(where, vector, get_embedder().model_name, 40),
        search_sql.fulltext_ranking(where, words, 40),
        search_sql.trigram_ranking(where, [word for word in words if len(word) >= 3], 40),
    ]
    alone = [[pk for (pk,) in bound_rows(f"SELECT id FROM ({r.sql}) AS x ORDER BY r", r.params)] for r in rankings]
    assert alone[0] and (alone[1] or alone[2]), alone  # more than one list to fuse
    expected = sorted(rrf_reference(alone).items(), key=lambda item: (-item[1], item[0]))[:5]
    fused = [(hit.pk, score) for hit, score in search_sql.fused_search(where, rankings, limit=5)]
    assert fused[: len(expected)] == expected


def test_search_api_shape(small_catalog, org, api_key, client_for):
    client = client_for(org, api_key=api_key)
    response = client.get("/api/v1/properties/search/", {"q": "ocean views by the beach", "limit": 2})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"results"} and len(body["results"]) == 2
    first = body["results"][0]
    assert set(first) == {"property", "score"} and isinstance(first["score"], float)
    assert first["property"]["external_id"] == "ocean-condo"
    assert first["property"]["price"] == 520000 and first["property"]["features"] == ["sea view", "pool"]


def test_search_api_applies_filters_and_validates(small_catalog, org, api_key, client_for):
    client = client_for(org, api_key=api_key)
    response = client.get("/api/v1/properties/search/", {"q": "views", "city": "seattle", "listing_type": "sale"})
    assert [hit["property"]["external_id"] for hit in response.json()["results"]] == ["skyline-penthouse"]
    assert client.get("/api/v1/properties/search/", {"q": "x", "limit": "lots"}).status_code == 400
    assert client.get("/api/v1/properties/search/", {"q": "x", "limit": 500}).status_code == 400
    bad = client.get("/api/v1/properties/search/", {"q": "x", "property_type": "castle"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "property_type"


def test_a_new_city_is_understood_right_after_its_first_listing(org, django_capture_on_commit_callbacks):
    """The parser's city list is cached; creating a listing in a new city forgets it after commit."""
    from django_tenants.utils import tenant_context

    from apps.properties.selectors import property_cities
    from apps.properties.services import property_create

    with tenant_context(org):
        assert "Boise" not in property_cities()  # cached now
        with django_capture_on_commit_callbacks(execute=True):
            property_create(title="Ranch", property_type="house", listing_type="sale", price=300000, city="Boise")
        assert "Boise" in property_cities()


def test_a_query_vector_travels_in_binary_and_as_text_alike(small_catalog):
    # Bound on the server (vector_rows) the vector goes in pgvector's binary form; Django's cursors
    # quote its text form. Both must give the same distances.
    from django.db import connection

    from apps.properties.selectors import vector_query, vector_rows

    vector = get_embedder().embed(["fireplace and garage"])[0]
    queryset = vector_query(property_list(), vector, 5, exact=False, model_name=get_embedder().model_name)
    binary = vector_rows(queryset)
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        text = cursor.fetchall()
    assert [pk for pk, _ in binary] == [pk for pk, _ in text]
    assert [distance for _, distance in binary] == pytest.approx([distance for _, distance in text], abs=1e-6)
    assert len(binary) == 5


def test_a_query_vector_is_sent_in_binary_on_server_bound_cursors(db):
    # The binary form is what makes vector_rows cheaper: a `%s` (AUTO) parameter must take it, and a
    # client-side cursor (Django's) the text form pgvector parses.
    import psycopg
    from django.db import connection
    from psycopg.adapt import PyFormat

    from apps.properties.vector_params import QueryVector, QueryVectorBinaryDumper, QueryVectorTextDumper

    connection.ensure_connection()
    adapters = connection.connection.adapters
    assert adapters.get_dumper(QueryVector, PyFormat.AUTO) is QueryVectorBinaryDumper
    assert adapters.get_dumper(QueryVector, PyFormat.TEXT) is QueryVectorTextDumper
    with psycopg.Cursor(connection.connection) as bound:
        assert bound.execute("SELECT %s::vector(3)::text", [QueryVector([0.5, -1.0, 2.0])]).fetchone() == (
            "[0.5,-1,2]",
        )


def test_a_prepared_search_follows_the_organization(org, other_org, monkeypatch):
    # The search's statements are prepared once per connection; PostgreSQL must plan them again for
    # the other organization's schema (search_path), never answer from the first one's tables, also
    # once it has switched to a generic plan (after five runs).
    from django.db import connection
    from django_tenants.utils import tenant_context

    from apps.properties.tests.conftest import SMALL_CATALOG, load

    with tenant_context(org):
        ours = load(SMALL_CATALOG[:4])
    with tenant_context(other_org):
        theirs = load(SMALL_CATALOG[4:])
    # Each schema numbers its listings from 1: the sizes and external ids (not the ids) tell them apart.
    assert len(ours) != len(theirs)
    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "prepare_threshold", 2**31 - 1)  # on, whatever the environment says
    vector = get_embedder().embed(["balcony with views"])[0]
    for _ in range(7):  # again and again on one connection, switching schemas
        for organization, own in ((org, ours), (other_org, theirs)):
            with tenant_context(organization):
                for strategy in ("exact", "index"):
                    found = vector_ranked_ids(property_list(), vector, 10, strategy=strategy)
                    assert set(found) <= set(own.values()) and len(found) == len(own), (organization.slug, strategy)
                hits = property_search(query="balcony with views", limit=10)
                assert {hit.property.external_id for hit in hits} == set(own), organization.slug
    with connection.cursor() as cursor:
        cursor.execute("SELECT sum(generic_plans) FROM pg_prepared_statements WHERE statement LIKE 'WITH vec AS%%'")
        assert cursor.fetchone()[0] > 0  # the generic plans were exercised too


def test_a_small_catalog_is_searched_in_one_statement(small_catalog):
    # Every agency-sized catalog: the three rankings, their fusion and the listings in one round trip.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    property_search(query="balcony with views", limit=3)  # the catalog's cities and size are cached now
    with CaptureQueriesContext(connection) as queries:
        hits = property_search(query="penthuose with skylne views", limit=3)
    assert hits[0].property.external_id == "skyline-penthouse"
    assert len(queries.captured_queries) == 1, [query["sql"][:120] for query in queries.captured_queries]
    sql = queries.captured_queries[0]["sql"]
    assert all(f"{name} AS (" in sql for name in ("vec", "ft", "tg", "fused"))
    # Nothing to rank: the newest matching listings, in one query too.
    with CaptureQueriesContext(connection) as queries:
        hits = property_search(query="", filters={"city": "Seattle"}, limit=5)
    assert [hit.property.external_id for hit in hits] == ["skyline-penthouse", "dog-cottage", "corner-retail"]
    assert len(queries.captured_queries) == 1


def test_listings_from_the_statement_are_whole(small_catalog):
    # Built from the statement's rows (Property.from_db): the same values as the ORM reads, nothing
    # but the search's own columns deferred. Checked before any value is read: reading a deferred
    # field loads it.
    hidden = {"search_text", "search_words", "search_vector"}
    hits = property_search(query="skyline views", limit=3)
    assert hits
    for hit in hits:
        assert hit.property.get_deferred_fields() == hidden
        fresh = Property.objects.get(pk=hit.property.pk)
        shown = [field.attname for field in Property._meta.concrete_fields if field.attname not in hidden]
        assert {name: getattr(hit.property, name) for name in shown} == {name: getattr(fresh, name) for name in shown}
        assert hit.property.get_deferred_fields() == hidden  # nothing was read from the database again


@pytest.mark.parametrize("question", [question for question, _ in QUESTIONS] + ["firplace and garaje"])
def test_large_catalogs_rank_alike_through_separate_statements(small_catalog, monkeypatch, question):
    # Above EXACT_SCAN_MAX_ROWS each ranking is its own query (the vector one through the HNSW index);
    # the hits and their scores must not depend on which way was taken.
    from apps.properties import selectors

    together = [(hit.property.pk, hit.score) for hit in property_search(query=question, limit=5)]
    monkeypatch.setattr(selectors, "EXACT_SCAN_MAX_ROWS", 0)
    apart = [(hit.property.pk, hit.score) for hit in property_search(query=question, limit=5)]
    assert apart == together


def test_connections_start_with_the_search_trigram_threshold(db):
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW pg_trgm.word_similarity_threshold")
        assert float(cursor.fetchone()[0]) == settings.SEARCH_TRIGRAM_THRESHOLD == 0.5
