"""Reads of listings: the filtered list and the hybrid search (full text + trigrams + vectors, fused by RRF)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, QuerySet, Value
from django.db.models.functions import Cast
from django.http import QueryDict
from pgvector.django import CosineDistance, HalfVectorField

from apps.core.errors import ApplicationError, ErrorCode
from apps.core.memo import TimedMemo
from apps.core.sql import bound_rows
from apps.properties import search_sql
from apps.properties.embeddings import EmbeddingError, get_embedder
from apps.properties.filters import PropertyFilter, filter_error, filters_clean, filters_sql
from apps.properties.models import Property, PropertyEmbedding
from apps.properties.query_parser import ParsedQuery, parse_query
from apps.properties.vector_params import VectorParam

logger = logging.getLogger(__name__)

# Each ranked list is this deep (limit × factor, bounded): deep enough for fusion to reorder.
CANDIDATE_FACTOR = 8
MIN_CANDIDATES = 40
MAX_CANDIDATES = 200
MAX_SEARCH_LIMIT = 50
# Up to this many matching listings an exact scan (filter first, then sort by distance) is faster
# than the HNSW index and exact by definition; above it the index with iterative scans wins.
# Measured with benchmarks/search.py (50k listings, 384 dimensions).
EXACT_SCAN_MAX_ROWS = 3000
# hnsw.ef_search while searching, and how many candidates the index hands over to keep the nearest of:
# recall@10 ≈ 0.96 at 32 on the benchmark's 50k listings with the half-precision index (0.97 at 40,
# 0.93 at 24), about 20 % faster than 40.
HNSW_EF_SEARCH = 32
_MAX_TEXT_WORDS = 12
_WORD_RE = re.compile(r"\w+")
# Words that say nothing about a listing; trigram matching on them would reward any text.
_STOPWORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "i", "im", "in", "is",
        "it", "its", "looking", "me", "my", "near", "need", "of", "on", "or", "please", "some", "something",
        "that", "the", "there", "this", "to", "want", "we", "with", "would", "like", "you", "your", "our",
    }
)  # fmt: skip

VectorStrategy = Literal["auto", "index", "exact"]


def _listings() -> QuerySet[Property]:
    return Property.objects.defer(*search_sql.NOT_SHOWN)


def _filterset(filters: Mapping[str, Any] | None) -> PropertyFilter:
    """The validated FilterSet; a bad value is a 400 naming the filter (django-filter would drop it silently)."""
    # A QueryDict goes in as it is (dict() of one would turn each value into a list).
    data = filters if isinstance(filters, QueryDict) else dict(filters or {})
    filterset = PropertyFilter(data=data, queryset=_listings())
    if not filterset.is_valid():
        raise filter_error(filterset.errors)
    return filterset


def property_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[Property]:
    """Listings matching the filters (city, property_type, listing_type, min/max_price, min_bedrooms, is_active, q)."""
    return _filterset(filters).qs


def property_get(*, pk: int) -> Property | None:
    return _listings().filter(pk=pk).first()


# Every chat turn and search asks for the cities; they change only when listings do (the services
# forget the cached list after such a commit), so a minute in the cache is safe.
CITIES_CACHE_SECONDS = 60
# A chat turn asks for the catalog three times (the parser's cities twice, the size for the search's
# path); through Redis each ask was a round trip and an unpickling, ~0.25 ms. This process keeps what
# it read for a second: another process's listing change reaches it within that second.
CATALOG_LOCAL_SECONDS = 1.0
_catalog_local = TimedMemo(CATALOG_LOCAL_SECONDS)


def property_cities_cache_key() -> str:
    return f"property-cities:{connection.schema_name}"


def property_catalog_forget(key: str | None = None) -> None:
    """Forget the catalog cached under `key` (property_cities_cache_key, taken in its schema); with no
    key, what this process keeps of every schema's."""
    _catalog_local.forget(key)
    if key is not None:
        cache.delete(key)


def _catalog() -> dict[str, Any]:
    """The catalog's cities and size, read in one query and cached with the cities. Not to be changed."""
    key = property_cities_cache_key()
    local = _catalog_local.get(key)
    if local is not None:
        return local
    catalog = cache.get(key)
    if not isinstance(catalog, dict):
        rows = Property.objects.order_by().values_list("city").annotate(n=Count("pk"))
        catalog = {"cities": [city for city, _ in rows], "size": sum(n for _, n in rows)}
        cache.set(key, catalog, CITIES_CACHE_SECONDS)
    return _catalog_local.put(key, catalog)


def property_cities() -> list[str]:
    """The cities of the organization's catalog: what the query parser may read as a city filter."""
    return list(_catalog()["cities"])


def property_catalog_size() -> int:
    """How many listings the organization has (active or not), as of at most a minute ago."""
    return _catalog()["size"]


@dataclass(frozen=True)
class SearchHit:
    property: Property
    score: float


@dataclass(frozen=True)
class SearchPlan:
    """What a search did: the filters it applied (given and understood) and the text it ranked on."""

    filters: dict[str, Any]
    text: str
    parsed: ParsedQuery


def property_search_plan(*, query: str, filters: Mapping[str, Any] | None = None) -> SearchPlan:
    """Hard filters for a search: the ones given (validated: a bad one is a 400 naming it), plus those the
    question states (given ones win); active only unless asked otherwise."""
    given = {key: value for key, value in (filters or {}).items() if key != "q" and value not in (None, "")}
    query = " ".join((query or "").split())
    parsed = parse_query(query, known_cities=property_cities()) if query else ParsedQuery()
    merged: dict[str, Any] = {**parsed.filters(), **given}
    # A visitor never sees a listing the agency switched off; `is_active=false` is an explicit admin ask.
    merged.setdefault("is_active", True)
    return SearchPlan(filters=filters_clean(merged), text=parsed.text or query, parsed=parsed)


def property_search(*, query: str, filters: Mapping[str, Any] | None = None, limit: int = 5) -> list[SearchHit]:
    """The `limit` best listings for a visitor's question, within hard filters that are always obeyed.

    The question is parsed ("3 bed house in Austin under $500k with a pool" → city, min_bedrooms,
    property_type, max_price + "pool"); the rest of the text is ranked by vector similarity, full text
    and trigram word similarity (typos), fused by reciprocal rank. Returns `limit` hits whenever that
    many listings match the filters (those no ranker found come last, newest first, score 0).

    An agency-sized catalog (≤ EXACT_SCAN_MAX_ROWS listings) is searched in one statement, with exact
    vector distances (search_sql). A larger one first walks the HNSW index (vector_ranked_ids).
    """
    if not 1 <= limit <= MAX_SEARCH_LIMIT:
        raise ApplicationError(ErrorCode.INVALID, f"limit must be between 1 and {MAX_SEARCH_LIMIT}.", attr="limit")
    plan = property_search_plan(query=query, filters=filters)
    where = filters_sql(plan.filters)
    depth = min(max(limit * CANDIDATE_FACTOR, MIN_CANDIDATES), MAX_CANDIDATES)
    rankings: list[search_sql.Ranking] = []
    if plan.text:
        vector = _query_vector(plan.text)
        if vector is not None:
            model_name = get_embedder().model_name
            if property_catalog_size() <= EXACT_SCAN_MAX_ROWS:
                rankings.append(search_sql.vector_ranking(where, vector, model_name, depth))
            else:
                base = _filterset(plan.filters).qs
                ids = vector_ranked_ids(base, vector, depth, model_name=model_name)
                rankings.append(search_sql.ids_ranking(ids))
        words = _words(plan.text)
        if words:
            rankings.append(search_sql.fulltext_ranking(where, words, depth))
        if long_words := [word for word in words if len(word) >= 3]:
            rankings.append(search_sql.trigram_ranking(where, long_words, depth))
    hits = search_sql.fused_search(where, rankings, limit)
    return [SearchHit(property=listing, score=round(score or 0.0, 6)) for listing, score in hits]


def _query_vector(text: str) -> list[float] | None:
    try:
        return get_embedder().embed([text])[0]
    except EmbeddingError as exc:
        # A provider outage degrades the search to text ranking; it must not fail the chat.
        logger.warning("Query embedding failed, searching without vectors: %s", exc)
        return None


def _words(text: str) -> list[str]:
    words = [word for word in _WORD_RE.findall(text.lower()) if word not in _STOPWORDS and not word.isdigit()]
    return list(dict.fromkeys(words))[:_MAX_TEXT_WORDS]


def vector_query(
    base: QuerySet[Property], vector: list[float], fetch: int, *, exact: bool, model_name: str
) -> QuerySet:
    """The `fetch` embeddings of `base`'s listings nearest to `vector`: exact, their ids; else (id, distance) rows.

    `exact=True` orders by `distance + 0`: the planner cannot match that to the HNSW index, so it
    filters first and sorts every match, and the ids come back in their final order. Otherwise the
    order is the index's expression (the vector in half precision, see PropertyEmbedding.Meta), so the
    HNSW index serves it (see hnsw_settings), and each row carries its full-precision distance for the
    caller to re-rank by.
    """
    embeddings = PropertyEmbedding.objects.filter(model_name=model_name)
    if base.query.where:
        # Only a filtered search needs the listings table; unfiltered, the embeddings alone answer.
        embeddings = embeddings.filter(property__in=base.values("pk"))
    dimensions = PropertyEmbedding._meta.get_field("vector").dimensions
    distance = CosineDistance("vector", VectorParam(vector, dimensions))
    if exact:
        ordered = embeddings.annotate(distance=distance + Value(0.0)).order_by("distance", "property_id")
        return ordered.values_list("property_id", flat=True)[:fetch]
    half = HalfVectorField(dimensions=dimensions)
    ordered = embeddings.annotate(distance=distance).order_by(
        CosineDistance(Cast("vector", half), Cast(VectorParam(vector, dimensions), half))
    )
    return ordered.values_list("property_id", "distance")[:fetch]


def vector_rows(queryset: QuerySet) -> list[tuple]:
    """The rows of a vector query, bound on the server and run as a prepared statement.

    Django's psycopg cursors bind on the client: a 384-number vector (twice in an index query) is
    quoted into the SQL text, which costs about 0.4 ms a query — a third of an HNSW search on 50,000
    listings (benchmarks/search.py). Bound on the server it travels as a binary parameter
    (vector_params). Prepared, the search skips parsing and planning after its first run on a
    connection; PostgreSQL plans it again by itself when the search_path (the organization) or the
    tables change.
    """
    return bound_rows(*queryset.query.sql_with_params())


def hnsw_settings(cursor, fetch: int) -> None:
    """Transaction-local HNSW settings: iterative scans keep a filtered scan going until `fetch` rows pass."""
    cursor.execute(
        "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', %s, true)",
        [str(min(max(HNSW_EF_SEARCH, fetch), 1000))],  # pgvector caps ef_search at 1000
    )


def _counted_exact(
    base: QuerySet[Property], vector: list[float], depth: int, model_name: str
) -> tuple[int, list[int] | None]:
    """(matches, the exact ranking when matches ≤ EXACT_SCAN_MAX_ROWS, else None), in one round trip.

    The count stops at the threshold, so its cost stays bounded however many listings match. The exact
    scan is a CASE arm: PostgreSQL runs it only when the count chose it. As two statements, a selective
    filter on a big catalog paid a second round trip and statement (~0.3 ms) on every search.
    """
    count_sql, count_params = base.order_by().values("pk")[: EXACT_SCAN_MAX_ROWS + 1].query.sql_with_params()
    exact_sql, exact_params = vector_query(
        base, vector, depth, exact=True, model_name=model_name
    ).query.sql_with_params()
    sql = (
        f"SELECT c.n, CASE WHEN c.n BETWEEN 1 AND {EXACT_SCAN_MAX_ROWS:d} THEN ARRAY({exact_sql}) END "
        f"FROM (SELECT count(*) AS n FROM ({count_sql}) AS matching) AS c"
    )
    ((matches, ids),) = bound_rows(sql, [*exact_params, *count_params])  # in the order the text names them
    return matches, ids if matches else []


def vector_ranked_ids(
    base: QuerySet[Property],
    vector: list[float],
    depth: int,
    *,
    strategy: VectorStrategy = "auto",
    model_name: str | None = None,
) -> list[int]:
    """Ids of the `depth` listings of `base` nearest to `vector` (cosine), nearest first.

    `index` walks the HNSW index with iterative scans (pgvector ≥ 0.8, relaxed order), so rows failing
    the filter do not starve the result; filtered, it takes ef_search candidates and keeps the `depth`
    nearest (recall@10 0.91 → 0.99 for a 23 % filter in benchmarks/search.py); the candidates, found by
    their half-precision distance in relaxed order, are re-ranked here by the full-precision one. `exact`
    filters first and sorts every match. `auto` counts
    the matches: few (a selective filter) → exact, which is then both faster and exact; else the index,
    falling back to exact if the index ever returns fewer rows than match. The count and the exact scan
    it chooses are one statement (_counted_exact).
    """
    model_name = model_name or get_embedder().model_name
    matches: int | None = None
    if strategy == "auto" and property_catalog_size() <= EXACT_SCAN_MAX_ROWS:
        strategy = "exact"  # no filter can leave more than the whole catalog: no need to count
    if strategy == "auto":
        matches, ids = _counted_exact(base, vector, depth, model_name)
        if ids is not None:
            return ids
        strategy = "index"
    if strategy == "exact":
        return [pk for (pk,) in vector_rows(vector_query(base, vector, depth, exact=True, model_name=model_name))]
    fetch = max(depth, HNSW_EF_SEARCH) if base.query.where else depth
    with transaction.atomic(), connection.cursor() as cursor:
        hnsw_settings(cursor, fetch)
        rows = vector_rows(vector_query(base, vector, fetch, exact=False, model_name=model_name))
    if matches is not None and len(rows) < min(depth, matches):
        # The index gave up early (hnsw.max_scan_tuples); the exact scan never does.
        return vector_ranked_ids(base, vector, depth, strategy="exact", model_name=model_name)
    rows.sort(key=lambda row: (row[1], row[0]))
    return [pk for pk, _ in rows[:depth]]
