"""Hand-written SQL on the hot paths (a chat turn's reads): bound on the server, prepared, still logged."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from django.db import InterfaceError, OperationalError, connection

T = TypeVar("T")


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


def read_on_live_connection(read: Callable[[], T]) -> T:
    """`read()` (reads only) without Django's health check first; if the connection was dead, again on a new one.

    With CONN_HEALTH_CHECKS, the first query after every close_old_connections (each
    database_sync_to_async hop does one) is preceded by a `SELECT 1` round trip: on a websocket turn,
    ~0.2 ms before the model is asked. A read can find out instead: if it fails because the server
    closed the connection (a restart, a proxy's idle timeout), the connection is closed and the read
    runs once more, on a new one, as the health check would have had it. Any other error is raised.
    Not for writes or inside a transaction: those cannot simply run again.
    """
    if connection.in_atomic_block:
        return read()
    connection.health_check_done = True  # Django's flag: "this connection was checked since it was last used"
    try:
        return read()
    except (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError):
        # Django's (a query through its cursors) or psycopg's own (bound_rows runs on the raw connection).
        if connection.in_atomic_block or connection.is_usable():
            raise
    connection.close()
    return read()
