"""django-tenants' PostgreSQL backend, without the `SET search_path` that repeats what is already set.

django-tenants forgets the connection's search_path on every set_tenant/set_schema, so each entry
into an organization's schema costs a `SET search_path` round trip before its first query, even when
the session already searches that schema. That is every websocket turn (each hop to the database
thread enters the schema and leaves it for public, where it runs no query) and every request on a
worker that served the same organization last.

Here the backend remembers what the session's search_path is: what the last `SET search_path` made
it, forgotten whenever PostgreSQL may have undone it (ROLLBACK and ROLLBACK TO SAVEPOINT revert a
SET made in their transaction) or the session ends. Entering a schema whose path the session already
has sends nothing; any other still gets its SET before its first query.
"""

from __future__ import annotations

from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper


class DatabaseWrapper(TenantDatabaseWrapper):
    # The session's search_path as the last SET made it; None when unknown.
    session_search_path: list[str] | None = None

    def set_tenant(self, tenant, include_public=True):
        super().set_tenant(tenant, include_public)  # forgets search_path_set_schemas: "SET before the next query"
        if self.session_search_path is not None and self.session_search_path == self._get_cursor_search_paths():
            self.search_path_set_schemas = self.session_search_path

    def _handle_search_path(self, cursor=None):
        try:
            super()._handle_search_path(cursor)
        finally:
            # django-tenants leaves search_path_set_schemas None when the SET failed.
            self.session_search_path = self.search_path_set_schemas

    def close(self):
        self.session_search_path = None
        super().close()

    def rollback(self):
        self.session_search_path = None
        super().rollback()

    def savepoint_rollback(self, sid):
        try:
            super().savepoint_rollback(sid)
        finally:
            self.session_search_path = None
