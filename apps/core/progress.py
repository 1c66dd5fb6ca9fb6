"""Progress of long background work (imports, reindexing), kept in the cache under the organization's schema."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.cache import cache
from django.db import connection

# A finished job's result stays readable this long (the page polls it once more, or the user comes back).
PROGRESS_TTL_SECONDS = 60 * 60


def _key(job_id: str) -> str:
    # The schema in the key: a job id read from another organization's schema finds nothing.
    return f"progress:{connection.schema_name}:{job_id}"


def progress_start(*, kind: str, total: int) -> str:
    """A new job of `kind` over `total` items, in the current schema; its id is what the page polls."""
    job_id = uuid.uuid4().hex
    cache.set(_key(job_id), {"kind": kind, "total": total, "done": 0, "finished": False, "result": None},
              PROGRESS_TTL_SECONDS)  # fmt: skip
    return job_id


def progress_update(job_id: str, done: int) -> None:
    """Record that `done` items of the job are processed (read-modify-write: one writer per job, the worker)."""
    job = cache.get(_key(job_id))
    if job is not None:
        cache.set(_key(job_id), {**job, "done": min(done, job["total"])}, PROGRESS_TTL_SECONDS)


def progress_finish(job_id: str, result: dict[str, Any]) -> None:
    """Mark the job done with its result (a JSON-able dict; `{"error": ...}` when it failed)."""
    job = cache.get(_key(job_id)) or {"kind": "", "total": 0, "done": 0}
    total = job["total"] if "error" in result else max(job["total"], job["done"])
    done = job["done"] if "error" in result else total
    cache.set(_key(job_id), {**job, "total": total, "done": done, "finished": True, "result": result},
              PROGRESS_TTL_SECONDS)  # fmt: skip


def progress_get(job_id: str) -> dict[str, Any] | None:
    """The job as {kind, total, done, finished, result}, or None when unknown here (expired, or another schema's)."""
    return cache.get(_key(job_id))
