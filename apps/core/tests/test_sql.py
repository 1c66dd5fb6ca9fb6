"""bound_rows: the hot path's statements are really prepared (Django turns psycopg's preparing off by default)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.sql import bound_rows

pytestmark = pytest.mark.django_db

STATEMENT = "SELECT %s::int + 1 AS answer"


def prepared(statement: str) -> list[tuple[int, int]]:
    """(generic plans, custom plans) of this connection's prepared statements with that text."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = %s",
            [statement.replace("%s", "$1")],
        )
        return cursor.fetchall()


@pytest.fixture
def preparing(monkeypatch):
    """Prepared statements on, as DATABASE_PREPARED_STATEMENTS (the default) configures the connection."""
    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "prepare_threshold", 2**31 - 1)


def test_statements_are_prepared_once_per_connection(preparing):
    assert prepared(STATEMENT) == []
    for n in range(8):
        assert bound_rows(STATEMENT, [n]) == [(n + 1,)]
    ((generic, custom),) = prepared(STATEMENT)
    assert generic + custom == 8  # one statement, executed eight times: parsed once


def test_django_own_queries_are_never_prepared():
    with connection.cursor() as cursor:
        for _ in range(3):
            cursor.execute("SELECT 41 + 1")
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%41 + 1%"])
        assert cursor.fetchone() == (0,)


def test_bound_statements_still_show_in_query_logs():
    with CaptureQueriesContext(connection) as queries:
        bound_rows(STATEMENT, [1])
    assert queries.captured_queries[-1]["sql"] == STATEMENT


def test_without_prepared_statements_the_rows_are_the_same(monkeypatch):
    # DATABASE_PREPARED_STATEMENTS=false (a pooler that cannot keep them): psycopg's threshold is None.
    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)
    assert bound_rows(STATEMENT, [5]) == [(6,)]
    assert prepared(STATEMENT) == []


def test_the_setting_reaches_the_connection():
    from django.conf import settings

    connection.ensure_connection()
    assert (connection.connection.prepare_threshold is not None) == settings.DATABASE_PREPARED_STATEMENTS
