"""Progress of background jobs: start, update, finish, read back; only inside the organization that started it."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.core.progress import progress_finish, progress_get, progress_start, progress_update

pytestmark = pytest.mark.django_db


def test_a_job_counts_up_then_carries_its_result(org):
    with tenant_context(org):
        job_id = progress_start(kind="import", total=4)
        assert progress_get(job_id) == {"kind": "import", "total": 4, "done": 0, "finished": False, "result": None}
        progress_update(job_id, 3)
        assert progress_get(job_id)["done"] == 3
        progress_update(job_id, 9)  # never past the total
        assert progress_get(job_id)["done"] == 4
        progress_finish(job_id, {"created": 4})
        job = progress_get(job_id)
        assert job["finished"] and job["result"] == {"created": 4} and (job["done"], job["total"]) == (4, 4)
        assert progress_get("unknown") is None
        progress_update("unknown", 1)  # an expired job is ignored, not recreated
        assert progress_get("unknown") is None


def test_a_failed_job_keeps_how_far_it_got(org):
    with tenant_context(org):
        job_id = progress_start(kind="reindex", total=10)
        progress_update(job_id, 2)
        progress_finish(job_id, {"error": "boom"})
        job = progress_get(job_id)
        assert job["finished"] and job["result"] == {"error": "boom"} and job["done"] == 2


def test_another_organization_cannot_read_a_job(org, other_org):
    with tenant_context(org):
        job_id = progress_start(kind="import", total=1)
    with tenant_context(other_org):
        assert progress_get(job_id) is None
        progress_finish(job_id, {"created": 99})  # writes its own key, never the other organization's
    assert progress_get(job_id) is None  # nor the public schema
    with tenant_context(org):
        assert progress_get(job_id)["finished"] is False
