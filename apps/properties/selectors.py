"""Reads of listings: the filtered list and the hybrid search (full text + trigrams + vectors, fused by RRF)."""

from __future__ import annotations

import logging
import operator
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import reduce
from typing import Any, Literal

import psycopg
from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Cast
from django.http import QueryDict
from pgvector.django import CosineDistance, HalfVectorField

from apps.core.errors import ApplicationError, ErrorCode
from apps.properties.embeddings import EmbeddingError, get_embedder
from apps.properties.filters import PropertyFilter
from apps.properties.models import Property, PropertyEmbedding
from apps.properties.query_parser import ParsedQuery, parse_query
from apps.properties.vector_params import VectorParam

logger = logging.getLogger(__name__)

# Columns no reader shows; the tsvector is the biggest value of a row.
_NOT_SHOWN = ("search_text", "search_vector")

# Reciprocal rank fusion constant (Cormack et al.): damps the head of each list so that agreement
# between lists matters more than one list's top rank.
RRF_K = 60
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
    return Property.objects.defer(*_NOT_SHOWN)


def _filterset(filters: Mapping[str, Any] | None) -> PropertyFilter:
    """The validated FilterSet; a bad value is a 400 naming the filter (django-filter would drop it silently)."""
    # A QueryDict goes in as it is (dict() of one would turn each value into a list).
    data = filters if isinstance(filters, QueryDict) else dict(filters or {})
    filterset = PropertyFilter(data=data, queryset=_listings())
    if not filterset.is_valid():
        attr, messages = next(iter(filterset.errors.items()))
        raise ApplicationError(ErrorCode.INVALID, str(messages[0]), attr=attr)
    return filterset


def property_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[Property]:
    """Listings matching the filters (city, property_type, listing_type, min/max_price, min_bedrooms, is_active, q)."""
    return _filterset(filters).qs


def property_get(*, pk: int) -> Property | None:
    return _listings().filter(pk=pk).first()


# Every chat turn and search asks for the cities; they change only when listings do (the services
# forget the cached list after such a commit), so a minute in the cache is safe.
CITIES_CACHE_SECONDS = 60


def property_cities_cache_key() -> str:
    return f"property-cities:{connection.schema_name}"


def _catalog() -> dict[str, Any]:
    """The catalog's cities and size, read in one query and cached with the cities."""
    key = property_cities_cache_key()
    catalog = cache.get(key)
    if not isinstance(catalog, dict):
        rows = Property.objects.order_by().values_list("city").annotate(n=Count("pk"))
        catalog = {"cities": [city for city, _ in rows], "size": sum(n for _, n in rows)}
        cache.set(key, catalog, CITIES_CACHE_SECONDS)
    return catalog


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
    """Hard filters for a search: the ones given, plus those the question states (given ones win); active only."""
    return _search_plan(query=query, filters=filters)[0]


def _search_plan(*, query: str, filters: Mapping[str, Any] | None) -> tuple[SearchPlan, QuerySet[Property]]:
    """The plan and the listings within its filters.

    One FilterSet validates the given filters (a bad one is a 400 naming it) and applies them together
    with those understood from the question.
    """
    given = {key: value for key, value in (filters or {}).items() if key != "q" and value not in (None, "")}
    query = " ".join((query or "").split())
    parsed = parse_query(query, known_cities=property_cities()) if query else ParsedQuery()
    merged: dict[str, Any] = {**parsed.filters(), **given}
    # A visitor never sees a listing the agency switched off; `is_active=false` is an explicit admin ask.
    merged.setdefault("is_active", True)
    filterset = _filterset(merged)
    cleaned = {key: value for key, value in filterset.form.cleaned_data.items() if value not in (None, "")}
    return SearchPlan(filters=cleaned, text=parsed.text or query, parsed=parsed), filterset.qs


def property_search(*, query: str, filters: Mapping[str, Any] | None = None, limit: int = 5) -> list[SearchHit]:
    """The `limit` best listings for a visitor's question, within hard filters that are always obeyed.

    The question is parsed ("3 bed house in Austin under $500k with a pool" → city, min_bedrooms,
    property_type, max_price + "pool"); the rest of the text is ranked by full text, trigram word
    similarity (typos) and vector similarity, fused by reciprocal rank. Returns `limit` hits whenever
    that many listings match the filters (those no ranker found come last, newest first, score 0).
    """
    if not 1 <= limit <= MAX_SEARCH_LIMIT:
        raise ApplicationError(ErrorCode.INVALID, f"limit must be between 1 and {MAX_SEARCH_LIMIT}.", attr="limit")
    plan, base = _search_plan(query=query, filters=filters)
    depth = min(max(limit * CANDIDATE_FACTOR, MIN_CANDIDATES), MAX_CANDIDATES)
    text = plan.text
    rankings: list[list[int]] = []
    if text:
        vector = _query_vector(text)
        words = [_fulltext_ranking(base, text, depth), _trigram_ranking(base, text, depth)]
        if property_catalog_size() <= EXACT_SCAN_MAX_ROWS:
            # Every agency-sized catalog: exact vector distances, and the three rankings in one statement.
            model_name = get_embedder().model_name
            nearest = None if vector is None else vector_query(base, vector, depth, exact=True, model_name=model_name)
            rankings = _ranked_together([nearest, *words])
        else:
            if vector is not None:
                rankings.append(vector_ranked_ids(base, vector, depth))
            rankings += [list(ranking) for ranking in words if ranking is not None]
    scores = rrf_fuse(rankings)
    ordered = sorted(scores, key=lambda pk: (-scores[pk], pk))[:limit]
    listings = _listings().filter(pk__in=ordered).order_by()
    if len(ordered) < limit:
        # Listings no ranker reached (no shared word, not embedded yet) still answer a filtered question,
        # newest first, read in the same query.
        rest = base.exclude(pk__in=ordered).order_by("-created_at", "-id")[: limit - len(ordered)]
        listings = listings.union(rest, all=True)
    by_pk = {listing.pk: listing for listing in listings}
    filled = sorted(by_pk.keys() - set(ordered), key=lambda pk: (by_pk[pk].created_at, pk), reverse=True)
    found = [pk for pk in ordered if pk in by_pk] + filled
    return [SearchHit(property=by_pk[pk], score=round(scores.get(pk, 0.0), 6)) for pk in found]


def rrf_fuse(rankings: list[list[int]], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal rank fusion: each list adds 1 / (k + rank) to the ids it ranks."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, pk in enumerate(ranking, start=1):
            scores[pk] = scores.get(pk, 0.0) + 1.0 / (k + rank)
    return scores


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
    return _bound_rows(*queryset.query.sql_with_params())


def _bound_rows(sql: str, params: list | tuple) -> list[tuple]:
    with connection.cursor() as cursor, psycopg.Cursor(cursor.connection) as bound:
        # The Django cursor comes first: opening it sets the organization's search_path.
        started = time.monotonic()
        rows = bound.execute(sql, params, prepare=True).fetchall()
    if connection.queries_logged:  # still seen by query counts in tests and the debug log, as Django's own are
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    return rows


def _ranked_together(rankings: list[QuerySet | None]) -> list[list[int]]:
    """The ids of several ranked querysets, each in its own order, read in one statement (one round trip).

    `SELECT ARRAY(<ranking>), ARRAY(<ranking>), …`: an ARRAY of a subquery keeps the subquery's order.
    Bound on the server and prepared, as vector_rows is. A None ranking (no words to match) is left out.
    """
    parts: list[str] = []
    params: list[Any] = []
    for ranking in rankings:
        if ranking is not None:
            sql, ranking_params = ranking.query.sql_with_params()
            parts.append(f"ARRAY({sql})")
            params.extend(ranking_params)
    if not parts:
        return []
    (row,) = _bound_rows(f"SELECT {', '.join(parts)}", params)
    return [list(ids) for ids in row]


def hnsw_settings(cursor, fetch: int) -> None:
    """Transaction-local HNSW settings: iterative scans keep a filtered scan going until `fetch` rows pass."""
    cursor.execute(
        "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', %s, true)",
        [str(min(max(HNSW_EF_SEARCH, fetch), 1000))],  # pgvector caps ef_search at 1000
    )


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
    falling back to exact if the index ever returns fewer rows than match.
    """
    model_name = model_name or get_embedder().model_name
    matches: int | None = None
    if strategy == "auto" and property_catalog_size() <= EXACT_SCAN_MAX_ROWS:
        strategy = "exact"  # no filter can leave more than the whole catalog: no need to count
    if strategy == "auto":
        # Counting stops at the threshold: the cost stays bounded however many listings match.
        matches = base.order_by()[: EXACT_SCAN_MAX_ROWS + 1].count()
        if matches == 0:
            return []
        strategy = "exact" if matches <= EXACT_SCAN_MAX_ROWS else "index"
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


def _fulltext_ranking(base: QuerySet[Property], text: str, depth: int) -> QuerySet | None:
    """Ids of `base`'s listings sharing a word with the text, best full-text rank first; None: no words."""
    words = _words(text)
    if not words:
        return None
    # Any word may match (OR): a question's words are rarely all in one listing.
    query = SearchQuery(" | ".join(words), search_type="raw", config="english")
    return (
        base.filter(search_vector=query)
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank", "-id")
        .values_list("pk", flat=True)[:depth]
    )


def _trigram_ranking(base: QuerySet[Property], text: str, depth: int) -> QuerySet | None:
    """Ids of `base`'s listings with a word like one of the text's (typos too), most alike first; None: no words.

    Each word is matched against the listing's short text by word similarity (pg_trgm's `%>`, served by
    the trigram index, at settings.SEARCH_TRIGRAM_THRESHOLD, which every connection starts with):
    "balcny" still finds "balcony", "Wilamette" finds "Willamette".
    """
    words = [word for word in _words(text) if len(word) >= 3]
    if not words:
        return None
    matches = reduce(operator.or_, (Q(search_text__trigram_word_similar=word) for word in words))
    similarity = reduce(operator.add, (TrigramWordSimilarity(word, "search_text") for word in words))
    ranked = base.filter(matches).annotate(similarity=similarity).order_by("-similarity", "-id")
    return ranked.values_list("pk", flat=True)[:depth]
