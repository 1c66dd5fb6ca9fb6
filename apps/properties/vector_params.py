"""A query's vector as a binary parameter: packed in microseconds, received without parsing text.

pgvector's Django helpers put a vector into SQL as its text form ('[0.0123,-0.0456,…]'): 384 numbers
formatted in Python and parsed again by the server, twice for an index search (the distance and
the index's half-precision order). Bound on the server (see selectors.vector_rows), a QueryVector
travels in pgvector's binary wire format instead: a dimension count, then big-endian float4s.
Django's own cursors bind on the client; for them the text form is kept.
"""

from __future__ import annotations

import struct

import psycopg
from django.db.models import Expression
from pgvector.django import VectorField
from psycopg.adapt import Dumper
from psycopg.pq import Format


class QueryVector(list):
    """A vector sent as a query parameter (see VectorParam)."""


class QueryVectorTextDumper(Dumper):
    format = Format.TEXT

    def dump(self, obj: QueryVector) -> bytes:
        return ("[" + ",".join(map(repr, map(float, obj))) + "]").encode()


class QueryVectorBinaryDumper(Dumper):
    # pgvector's vector_recv: int16 dimensions, int16 unused, then the float4s, all big-endian.
    format = Format.BINARY

    def dump(self, obj: QueryVector) -> bytes:
        return struct.pack(f">HH{len(obj)}f", len(obj), 0, *obj)


def register() -> None:
    """Teach psycopg both forms; called at start-up, before a connection copies the global adapters.

    The binary dumper goes last, so a `%s` placeholder (psycopg's AUTO format) takes it.
    """
    psycopg.adapters.register_dumper(QueryVector, QueryVectorTextDumper)
    psycopg.adapters.register_dumper(QueryVector, QueryVectorBinaryDumper)


class VectorParam(Expression):
    """`%s::vector(n)` with the vector as one parameter: the right side of a distance operator."""

    output_field = VectorField()

    def __init__(self, vector: list[float], dimensions: int):
        super().__init__()
        self.vector = QueryVector(vector)
        self.dimensions = dimensions

    def as_sql(self, compiler, connection):
        return f"%s::vector({self.dimensions:d})", [self.vector]

    def __hash__(self) -> int:  # the list is unhashable; identity is enough for an expression used once
        return id(self)

    def __eq__(self, other) -> bool:
        return self is other
