"""Background jobs of listings: (re-)embedding after a change is committed, imports and reindexing with progress."""

from __future__ import annotations

import json
import logging
from typing import Any

import dramatiq

from apps.core.progress import progress_finish, progress_update
from apps.properties.services import property_embeddings_refresh, property_embeddings_sync, property_import

logger = logging.getLogger(__name__)

KIND_IMPORT = "import"
KIND_REINDEX = "reindex"


# Retries cover a provider that is briefly down (OpenAI); the hashing default never fails.
@dramatiq.actor(max_retries=5, time_limit=5 * 60 * 1000)
def property_embed(property_ids: list[int]) -> None:
    """Embed these listings of the sender's schema when their text changed since the last embedding."""
    property_embeddings_refresh(property_ids=property_ids)


def import_rows_jsonable(rows: list[Any]) -> list[Any]:
    """Parsed rows as plain JSON for the message: JSON files parse numbers to Decimal, which travel as strings."""
    return json.loads(json.dumps(rows, default=str))


def _reporter(job_id: str, total: int):
    done = 0
    # About a hundred writes per job at most: the bar moves smoothly without a cache write per row.
    step = max(1, total // 100)

    def report(count: int) -> None:
        nonlocal done
        before, done = done, done + count
        if done // step != before // step or done >= total:
            progress_update(job_id, done)

    return report, lambda: done


# No retries: the user started it and watches it; a failure is shown on the page (and it can be run again).
@dramatiq.actor(max_retries=0, time_limit=30 * 60 * 1000)
def property_import_run(job_id: str, rows: list[Any]) -> None:
    """Import the rows (bounded by PROPERTY_IMPORT_MAX_BYTES at upload) and record progress and the result."""
    report, processed = _reporter(job_id, len(rows))
    try:
        result = property_import(rows=rows, progress=report)
    except Exception:
        logger.exception("Import job %s failed", job_id)
        progress_finish(job_id, {"error": "The import failed; nothing was imported. Try again."})
        raise
    progress_finish(job_id, {**result.as_dict(), "rows": len(rows), "processed": processed()})


@dramatiq.actor(max_retries=0, time_limit=30 * 60 * 1000)
def property_reindex_run(job_id: str, force: bool) -> None:
    """Embed every listing of the schema (again, with `force`) and record progress and the count."""
    from apps.properties.selectors import property_list

    ids = list(property_list(filters={}).order_by("pk").values_list("pk", flat=True))
    report, _ = _reporter(job_id, len(ids))
    try:
        count = property_embeddings_sync(property_ids=ids, force=force, progress=report)
    except Exception:
        logger.exception("Reindex job %s failed", job_id)
        progress_finish(job_id, {"error": "Reindexing failed. Try again."})
        raise
    progress_finish(job_id, {"count": count, "total": len(ids)})
