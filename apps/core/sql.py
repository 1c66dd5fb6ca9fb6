"""Hand-written SQL on the hot paths (a chat turn's reads): bound on the server, prepared, still logged."""

from __future__ import annotations

import time
from typing import Any

import psycopg
from django.db import connection


def bound_rows(sql: str, params: list[Any] | tuple[Any, ...]) -> list[tuple]:
    """The rows of one statement, bound on the server and run as a prepared statement.

    Django's psycopg cursors bind on the client: every parameter is quoted into the SQL text, and
    the server parses and plans the statement again each time. Here the parameters travel apart (a
    query vector in binary, see apps/properties/vector_params), and a connection parses and plans
    each statement once; PostgreSQL plans it again by itself when the search_path (the
    organization) or the tables change. `%s` placeholders, as in Django's own SQL.
    """
    with connection.cursor() as cursor, psycopg.Cursor(cursor.connection) as bound:
        # The Django cursor comes first: opening it connects and sets the organization's search_path.
        started = time.monotonic()
        rows = bound.execute(sql, params, prepare=True).fetchall()
    if connection.queries_logged:  # still seen by query counts in tests and the debug log, as Django's own are
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    return rows
