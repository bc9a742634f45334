"""Persisted jobs: one open job per URL, claiming, and recovery after a restart."""

from __future__ import annotations

from capmatch.core import CapMatch
from capmatch.models import JobStatus, Stage
from capmatch.storage.jobs import MAX_ATTEMPTS


def test_an_open_job_is_returned_for_the_same_source(core: CapMatch) -> None:
    first, created = core.jobs.submit("https://example.com/a", "extractive")
    again, created_again = core.jobs.submit("https://example.com/a", "extractive")
    assert created and not created_again and again.id == first.id
    claimed = core.jobs.claim_next()
    assert claimed is not None and claimed.id == first.id and claimed.status == JobStatus.RUNNING
    assert core.jobs.submit("https://example.com/a", "extractive")[0].id == first.id  # still open while running
    core.jobs.finish(first.id, "tool-a")
    later, created_later = core.jobs.submit("https://example.com/a", "extractive")
    assert created_later and later.id != first.id


def test_progress_failure_and_listing(core: CapMatch) -> None:
    job, _ = core.jobs.submit("https://example.com/b", "extractive")
    core.jobs.claim_next()
    core.jobs.advance(job.id, Stage.EXTRACTING, 0.35)
    assert core.jobs.get(job.id).stage == Stage.EXTRACTING
    core.jobs.fail(job.id, "HTTP 404 from https://example.com/b: Not Found", "fetch_failed")
    failed = core.jobs.get(job.id)
    assert failed.status == JobStatus.FAILED and failed.error_code == "fetch_failed" and failed.finished_at
    assert [j.id for j in core.jobs.list(status="failed")] == [job.id]


def test_running_jobs_are_requeued_after_a_restart_until_out_of_attempts(core: CapMatch) -> None:
    job, _ = core.jobs.submit("https://example.com/c", "extractive")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        claimed = core.jobs.claim_next()
        assert claimed is not None and claimed.attempts == attempt
        requeued, failed = core.jobs.recover()  # the server died while the job was running
        if attempt < MAX_ATTEMPTS:
            assert (requeued, failed) == (1, 0) and core.jobs.get(job.id).status == JobStatus.QUEUED
    final = core.jobs.get(job.id)
    assert final.status == JobStatus.FAILED and "interrupted" in (final.error or "")
