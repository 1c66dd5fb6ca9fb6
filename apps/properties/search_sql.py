"""The search's statements, hand-written: three rankings, their fusion and the listings, in one round trip.

A chat turn searches before it asks the model, so the search is on the path of every reply's first
token. Built with the ORM, one search compiled five querysets: about 3 ms of Python around well
under a millisecond of database work. Here a search is string joins and one prepared statement:

    WITH vec AS (…), ft AS (…), tg AS (…)        -- each ranking: (id, r), r = 1 for the best
       , fused AS (…)                            -- reciprocal rank fusion, the best `limit`
    SELECT <listing>, score FROM fused JOIN listings
    UNION ALL (<newest matching listings no ranking reached, while fewer than `limit`>)

The hard filters are the FilterSet's (apps/properties/filters.filters_sql), applied in every part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from apps.core.sql import bound_rows
from apps.properties.models import Property, PropertyEmbedding, SearchWord
from apps.properties.vector_params import QueryVector

# Reciprocal rank fusion constant (Cormack et al.): damps the head of each list so that agreement
# between lists matters more than one list's top rank.
RRF_K = 60
# Columns no reader shows (the search's own); the tsvector is the biggest value of a row.
NOT_SHOWN = ("search_text", "search_words", "search_vector")

_PROPERTY = f'"{Property._meta.db_table}"'
_EMBEDDING = f'"{PropertyEmbedding._meta.db_table}"'
_SEARCH_WORD = f'"{SearchWord._meta.db_table}"'
_DIMENSIONS = PropertyEmbedding._meta.get_field("vector").dimensions
_FIELDS = [field for field in Property._meta.concrete_fields if field.attname not in NOT_SHOWN]
LISTING_FIELD_NAMES = tuple(field.attname for field in _FIELDS)
_LISTING_COLUMNS = ", ".join(f'p."{field.column}"' for field in _FIELDS)


@dataclass
class Ranking:
    """One ranked list as SQL yielding (id, r), r = 1 for the best."""

    name: str
    sql: str
    params: list[Any] = field(default_factory=list)


def _ranked(name: str, inner: str, params: list[Any], order: str) -> Ranking:
    # The inner query keeps the best `depth` (a top-N sort); the window numbers those few.
    return Ranking(name, f"SELECT id, row_number() OVER (ORDER BY {order}) AS r FROM ({inner}) AS ranked", params)


def vector_ranking(where: tuple[str, list[Any]], vector: list[float], model_name: str, depth: int) -> Ranking:
    """The `depth` nearest listings by cosine distance, computed for every match (exact; no index)."""
    condition, params = where
    inner = (
        f"SELECT e.property_id AS id, e.vector <=> (SELECT %s::vector({_DIMENSIONS:d})) AS distance "
        f"FROM {_EMBEDDING} e JOIN {_PROPERTY} p ON p.id = e.property_id "
        f"WHERE e.model_name = %s AND {condition} ORDER BY distance, id LIMIT {depth:d}"
    )
    return _ranked("vec", inner, [QueryVector(vector), model_name, *params], "distance, id")


def ids_ranking(ids: list[int], name: str = "vec") -> Ranking:
    """A ranking found elsewhere (the HNSW index), best first."""
    return Ranking(name, "SELECT id, r FROM unnest(%s::bigint[]) WITH ORDINALITY AS given(id, r)", [list(ids)])


def fulltext_ranking(where: tuple[str, list[Any]], words: list[str], depth: int) -> Ranking:
    """Listings sharing any of the words (OR), best full-text rank first."""
    condition, params = where
    # A sub-select: computed once per statement. A generic plan (prepared) would parse the query text
    # again for every row it ranks.
    query = "(SELECT to_tsquery('english'::regconfig, %s))"
    inner = (
        f"SELECT p.id, ts_rank(p.search_vector, {query}) AS rank FROM {_PROPERTY} p "
        f"WHERE {condition} AND p.search_vector @@ {query} ORDER BY rank DESC, p.id DESC LIMIT {depth:d}"
    )
    text = " | ".join(words)
    return _ranked("ft", inner, [text, *params, text], "rank DESC, id DESC")


def trigram_ranking(where: tuple[str, list[Any]], words: list[str], depth: int) -> Ranking:
    """Listings holding a word like one of `words` (typos too), most alike first.

    A query word the catalog's vocabulary (SearchWord) holds is no typo: it matches itself, with
    similarity 1. Only an unknown word is compared with the vocabulary's words (trigram-indexed;
    pg_trgm's `%>` at the connection's word similarity threshold), not with every listing's text: a
    comparison costs ~1 µs a word pair, so a few hundred words per unknown word, where comparing with
    every listing cost ~20 µs per word (180 ms for a three-word question on 3,000 listings), and where
    comparing every query word cost ~1 ms of a 2 ms search on the demo catalog, to find "parking" for
    "park". The listings holding the near words are then found through search_words' index. A listing
    scores, per query word, its most alike word, summed over the query's words. `near` is materialized:
    inlined, a generic plan joined every vocabulary word to the filtered listings.
    """
    condition, params = where
    inner = (
        "WITH q AS MATERIALIZED ("
        f"SELECT q.i, q.word, EXISTS (SELECT FROM {_SEARCH_WORD} k WHERE k.word = q.word) AS known "
        "FROM unnest(%s::text[]) WITH ORDINALITY AS q(word, i)), "
        "near AS MATERIALIZED ("
        "SELECT q.i, q.word, 1::real AS similarity FROM q WHERE q.known "
        "UNION ALL "
        "SELECT q.i, v.word, word_similarity(q.word, v.word) "
        f"FROM q JOIN {_SEARCH_WORD} v ON v.word %%> q.word WHERE NOT q.known), "
        "best AS ("
        "SELECT p.id, near.i, max(near.similarity) AS similarity "
        f"FROM {_PROPERTY} p JOIN near ON near.word = ANY(p.search_words) "
        f"WHERE {condition} AND p.search_words && ARRAY(SELECT word FROM near) GROUP BY p.id, near.i) "
        "SELECT id, sum(similarity) AS similarity FROM best GROUP BY id "
        f"ORDER BY similarity DESC, id DESC LIMIT {depth:d}"
    )
    return _ranked("tg", inner, [list(words), *params], "similarity DESC, id DESC")


def fused_search(
    where: tuple[str, list[Any]], rankings: list[Ranking], limit: int
) -> list[tuple[Property, float | None]]:
    """The `limit` best listings by reciprocal rank fusion of `rankings`, then the newest matching ones.

    Each listing's score is 1 / (RRF_K + r) summed over the rankings in their given order, in float8,
    as Python would add them; ties go to the lower id. Listings no ranking reached (no shared word,
    not embedded yet) fill up to `limit`, newest first, with the score None.
    """
    condition, where_params = where
    fill = f"SELECT {_LISTING_COLUMNS}, NULL::float8 FROM {_PROPERTY} p WHERE {condition}"
    newest = "ORDER BY p.created_at DESC, p.id DESC"
    if not rankings:
        sql, params = f"{fill} {newest} LIMIT {limit:d}", list(where_params)
    else:
        names = [ranking.name for ranking in rankings]
        ids = " UNION ".join(f"SELECT id FROM {name}" for name in names)
        # A ranking that does not list an id adds 0, which changes no float.
        score = " + ".join(f"COALESCE(1::float8 / ({RRF_K:d} + {name}.r)::float8, 0)" for name in names)
        joins = " ".join(f"LEFT JOIN {name} ON {name}.id = ids.id" for name in names)
        ctes = [f"{ranking.name} AS ({ranking.sql})" for ranking in rankings]
        ctes.append(f"ids AS ({ids})")
        ctes.append(
            f"fused AS (SELECT ids.id, {score} AS score FROM ids {joins} ORDER BY score DESC, ids.id LIMIT {limit:d})"
        )
        sql = (
            f"WITH {', '.join(ctes)} "
            f"SELECT {_LISTING_COLUMNS}, fused.score FROM fused JOIN {_PROPERTY} p ON p.id = fused.id "
            f"UNION ALL ({fill} AND p.id NOT IN (SELECT id FROM fused) {newest} "
            f"LIMIT GREATEST({limit:d} - (SELECT count(*) FROM fused), 0))"
        )
        params = [param for ranking in rankings for param in ranking.params] + list(where_params)
    hits = [
        (Property.from_db(connection.alias, LISTING_FIELD_NAMES, row[:-1]), row[-1]) for row in bound_rows(sql, params)
    ]
    ranked = sorted((hit for hit in hits if hit[1] is not None), key=lambda hit: (-hit[1], hit[0].pk))
    filled = sorted((hit for hit in hits if hit[1] is None), key=lambda hit: (hit[0].created_at, hit[0].pk))
    return ranked + filled[::-1]
