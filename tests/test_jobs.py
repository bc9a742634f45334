"""Persisted jobs: one open job per URL, claiming under a lease, and takeover after a lease expires."""

from __future__ import annotations

import pytest

from capmatch.errors import LeaseLost
from capmatch.models import JobStatus, Stage
from capmatch.runtime import Runtime
from capmatch.storage.jobs import MAX_ATTEMPTS

LEASE = 60.0
pytestmark = pytest.mark.both_backends


def expire(core: Runtime, job_id: str) -> None:
    core.catalog.conn.execute("UPDATE jobs SET lease_expires_at = '2000-01-01T00:00:00+00:00' WHERE id = ?", (job_id,))


def test_an_open_job_is_returned_for_the_same_source(core: Runtime) -> None:
    first, created = core.jobs.submit("https://example.com/a", "extractive")
    again, created_again = core.jobs.submit("https://example.com/a", "extractive")
    assert created and not created_again and again.id == first.id
    lease = core.jobs.claim_next("w1", LEASE)
    assert lease is not None and lease.job.id == first.id and lease.job.status == JobStatus.RUNNING
    assert core.jobs.get(first.id).worker == "w1"
    assert core.jobs.submit("https://example.com/a", "extractive")[0].id == first.id  # still open while running
    core.jobs.finish(lease, "tool-a")
    later, created_later = core.jobs.submit("https://example.com/a", "extractive")
    assert created_later and later.id != first.id


def test_progress_failure_and_listing(core: Runtime) -> None:
    job, _ = core.jobs.submit("https://example.com/b", "extractive")
    lease = core.jobs.claim_next("w1", LEASE)
    assert lease is not None
    core.jobs.advance(lease, Stage.EXTRACTING, 0.35, LEASE)
    assert core.jobs.get(job.id).stage == Stage.EXTRACTING
    core.jobs.fail(lease, "HTTP 404 from https://example.com/b: Not Found", "fetch_failed")
    failed = core.jobs.get(job.id)
    assert failed.status == JobStatus.FAILED and failed.error_code == "fetch_failed" and failed.finished_at
    assert [j.id for j in core.jobs.list(status="failed")] == [job.id]


def test_only_the_lease_holder_writes_and_an_expired_lease_passes_the_job_on(core: Runtime) -> None:
    job, _ = core.jobs.submit("https://example.com/c", "extractive")
    first = core.jobs.claim_next("w1", LEASE)
    assert first is not None
    assert core.jobs.claim_next("w2", LEASE) is None, "a job under a live lease is never claimed twice"
    assert core.jobs.requeue_expired() == (0, 0)
    expire(core, job.id)
    second = core.jobs.claim_next("w2", LEASE)  # the expired lease is requeued, then claimed
    assert second is not None and second.job.id == job.id and second.job.attempts == 2
    for late_write in (
        lambda: core.jobs.advance(first, Stage.EMBEDDING, 0.6, LEASE),
        lambda: core.jobs.finish(first, "stale-tool"),
        lambda: core.jobs.fail(first, "late", "internal_error"),
        lambda: core.jobs.check(first),
    ):
        with pytest.raises(LeaseLost):
            late_write()
    assert not core.jobs.renew(first, LEASE)
    assert core.jobs.renew(second, LEASE)
    core.jobs.finish(second, "tool-c")
    done = core.jobs.get(job.id)
    assert done.status == JobStatus.DONE and done.tool_id == "tool-c" and done.worker == "w2"


def test_expired_jobs_are_requeued_until_out_of_attempts(core: Runtime) -> None:
    job, _ = core.jobs.submit("https://example.com/d", "extractive")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        lease = core.jobs.claim_next("w1", LEASE)
        assert lease is not None and lease.job.attempts == attempt
        expire(core, job.id)  # the worker died while the job was running
        requeued, failed = core.jobs.requeue_expired()
        if attempt < MAX_ATTEMPTS:
            assert (requeued, failed) == (1, 0) and core.jobs.get(job.id).status == JobStatus.QUEUED
    final = core.jobs.get(job.id)
    assert final.status == JobStatus.FAILED and "interrupted" in (final.error or "")
