"""bound_rows: the hot path's statements are really prepared (Django turns psycopg's preparing off by default)."""

from __future__ import annotations

import psycopg
import pytest
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext

from apps.core.sql import bound_rows, read_on_live_connection

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


@pytest.fixture
def checked_connections(settings):
    """Persistent, health-checked connections, as deployed (tests close theirs after each use)."""
    connection.settings_dict["CONN_MAX_AGE"] = 60
    connection.settings_dict["CONN_HEALTH_CHECKS"] = True
    connection.close()
    connection.ensure_connection()
    close_old_connections()  # as every database_sync_to_async hop begins: the next query is checked first
    yield
    connection.settings_dict["CONN_MAX_AGE"] = 0
    connection.settings_dict["CONN_HEALTH_CHECKS"] = False
    connection.close()


def _terminate(pid: int) -> None:
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])


@pytest.mark.django_db(transaction=True)
def test_a_read_on_a_live_connection_skips_the_health_check(checked_connections, monkeypatch):
    checks = []
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or True)
    assert read_on_live_connection(lambda: bound_rows(STATEMENT, [1])) == [(2,)]
    assert checks == []
    close_old_connections()
    with connection.cursor() as cursor:  # any other first query of a hop is still checked
        cursor.execute("SELECT 1")
    assert checks == [1]


@pytest.mark.django_db(transaction=True)
def test_a_read_on_a_dead_connection_runs_again_on_a_new_one(checked_connections):
    dead = connection.connection.info.backend_pid
    _terminate(dead)  # as a server restart or a proxy's idle timeout would
    assert read_on_live_connection(lambda: bound_rows(STATEMENT, [1])) == [(2,)]
    assert connection.connection.info.backend_pid != dead


@pytest.mark.django_db(transaction=True)
def test_other_errors_of_a_read_are_raised(checked_connections):
    from django.db import ProgrammingError

    runs = []

    def read():
        runs.append(1)
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    with pytest.raises(ProgrammingError):
        read_on_live_connection(read)
    assert runs == [1]
