"""What the platform declares about its PostgreSQL extensions beyond creating them: pg_trgm's operator costs.

pg_trgm declares the functions behind `%`, `<%` and `%>` at the default cost of a C function (1, an
equality's). Measured on a cached seq scan, one call costs ~1.1 µs: ~0.43 of the planner's units
where a cached page is 1 (~2.5 µs here), i.e. a COST of ~170. At cost 1 the planner judged a scan of
the search's vocabulary (SearchWord, a few hundred words per catalog) cheaper than its trigram index
and compared every word: 0.31 ms for a question with one unknown word on the demo catalog, where the
index answers in 0.02 ms. At 100 (under the measured cost), the index wins from ~100 words up.

The functions belong to the extension, in the database, so the declaration is database-wide. It does
not survive everything a database goes through: pg_dump leaves an extension's members out (a restored
database has pg_trgm's own costs again), and `ALTER EXTENSION pg_trgm UPDATE` re-creates them. So
migration core/0002 declares it once and `init_platform`, run on every deploy, declares it again.

A role that does not own the functions (a managed server where an administrator installed pg_trgm)
gets a warning: the search stays correct, only slower on unknown words.
"""

from __future__ import annotations

TRIGRAM_OPERATOR_COST = 100

TRIGRAM_COSTS_SQL = f"""
DO $$
DECLARE
    fn regprocedure;
BEGIN
    FOR fn IN
        SELECT o.oprcode::regprocedure
        FROM pg_operator o
        JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = o.oprcode AND d.deptype = 'e'
        JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'pg_trgm'
        JOIN pg_proc p ON p.oid = o.oprcode
        WHERE o.oprname IN ('%', '<%', '%>') AND o.oprleft = 'text'::regtype AND o.oprright = 'text'::regtype
          AND p.procost <> {TRIGRAM_OPERATOR_COST:d}
    LOOP
        BEGIN
            EXECUTE format('ALTER FUNCTION %s COST {TRIGRAM_OPERATOR_COST:d}', fn);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'cannot set the cost of % (not its owner): the search will not use its trigram index', fn;
        END;
    END LOOP;
END
$$;
"""


def trigram_costs_declare(connection) -> None:
    """Declare pg_trgm's operator costs (idempotent: a function already at the cost is left alone)."""
    with connection.cursor() as cursor:
        cursor.execute(TRIGRAM_COSTS_SQL)


def trigram_costs(connection) -> dict[str, float]:
    """The declared cost of each function behind pg_trgm's `%`, `<%` and `%>` on text."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT o.oprname, p.procost FROM pg_operator o JOIN pg_proc p ON p.oid = o.oprcode "
            "JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = o.oprcode AND d.deptype = 'e' "
            "JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'pg_trgm' "
            "WHERE o.oprname = ANY(%s) AND o.oprleft = 'text'::regtype AND o.oprright = 'text'::regtype",
            [["%", "<%", "%>"]],
        )
        return {name: cost for name, cost in cursor.fetchall()}
