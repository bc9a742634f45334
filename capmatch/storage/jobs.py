"""Ingestion jobs on SQLite: submitted by the API, claimed under a lease by workers (see base.JobQueue)."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from capmatch.errors import LeaseLost, NotFound
from capmatch.models import Job, JobOutcome, JobStatus, LLMUsage, Stage, utcnow
from capmatch.storage.base import Lease
from capmatch.storage.catalog import SqliteCatalog
from capmatch.storage.sqlite import transaction

OPEN = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
MAX_ATTEMPTS = 3


def _after(seconds: float) -> str:
    return (utcnow() + timedelta(seconds=seconds)).isoformat()


class SqliteJobQueue:
    def __init__(self, catalog: SqliteCatalog) -> None:
        self.catalog = catalog

    @property
    def conn(self) -> sqlite3.Connection:
        return self.catalog.conn

    def submit(self, source: str, extractor: str, name: str | None = None) -> tuple[Job, bool]:
        """Queue a job for ``source``; an open job for the same source is returned instead (created=False)."""
        with transaction(self.conn):
            row = self.conn.execute(
                "SELECT * FROM jobs WHERE source = ? AND status IN (?, ?) ORDER BY created_at LIMIT 1",
                (source, *OPEN),
            ).fetchone()
            if row is not None:
                return _job(row), False
            now = utcnow().isoformat()
            job_id = uuid.uuid4().hex
            self.conn.execute(
                """INSERT INTO jobs (id, source, name, extractor, status, stage, progress, created_at,
                       updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)""",
                (job_id, source, name, extractor, JobStatus.QUEUED.value, Stage.QUEUED.value, now, now),
            )
        return self.get(job_id), True

    def get(self, job_id: str) -> Job:
        row = self.conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFound(f"no job with id '{job_id}'")
        return _job(row)

    def list(self, limit: int = 50, status: str | None = None) -> list[Job]:
        if status:
            rows = self.conn.execute(
                "SELECT * FROM jobs WHERE status = ? ORDER BY created_at DESC LIMIT ?", (status, limit)
            )
        else:
            rows = self.conn.execute("SELECT * FROM jobs ORDER BY created_at DESC LIMIT ?", (limit,))
        return [_job(r) for r in rows]

    # ---- leases ------------------------------------------------------------------------------
    def claim_next(self, worker: str, lease_seconds: float) -> Lease | None:
        """The oldest queued job, now running under a new lease held by ``worker``."""
        with transaction(self.conn):
            self._requeue_expired()
            row = self.conn.execute(
                "SELECT id FROM jobs WHERE status = ? ORDER BY created_at LIMIT 1", (JobStatus.QUEUED.value,)
            ).fetchone()
            if row is None:
                return None
            token = uuid.uuid4().hex
            self.conn.execute(
                """UPDATE jobs SET status = ?, attempts = attempts + 1, updated_at = ?, lease_owner = ?,
                       lease_token = ?, lease_expires_at = ? WHERE id = ?""",
                (JobStatus.RUNNING.value, utcnow().isoformat(), worker, token, _after(lease_seconds), row[0]),
            )
        return Lease(self.get(row[0]), worker, token)

    def _owned(self, lease: Lease, sql: str, params: tuple[object, ...]) -> None:
        """Run an UPDATE of the leased job (``sql`` ends in WHERE id = ?), only while the lease holds."""
        cursor = self.conn.execute(
            f"{sql} AND lease_token = ? AND status = ? AND lease_expires_at >= ?",
            (*params, lease.job.id, lease.token, JobStatus.RUNNING.value, utcnow().isoformat()),
        )
        if cursor.rowcount == 0:
            raise LeaseLost(
                f"job {lease.job.id} is no longer held by worker {lease.worker}: its lease expired and another "
                "worker may run it (CAPMATCH_WORKER_LEASE_SECONDS)"
            )

    def renew(self, lease: Lease, lease_seconds: float) -> bool:
        try:
            self._owned(lease, "UPDATE jobs SET lease_expires_at = ? WHERE id = ?", (_after(lease_seconds),))
        except LeaseLost:
            return False
        return True

    def check(self, lease: Lease) -> None:
        """Raise LeaseLost unless the lease still holds (called inside the store transaction)."""
        self._owned(lease, "UPDATE jobs SET lease_owner = lease_owner WHERE id = ?", ())

    def advance(self, lease: Lease, stage: Stage, progress: float, lease_seconds: float) -> None:
        self._owned(
            lease,
            "UPDATE jobs SET stage = ?, progress = ?, updated_at = ?, lease_expires_at = ? WHERE id = ?",
            (stage.value, round(progress, 3), utcnow().isoformat(), _after(lease_seconds)),
        )

    def describe(
        self, lease: Lease, backend: str, model: str | None, prompt_version: str | None, notice: str | None
    ) -> None:
        """Which backend, model and prompt version run this job, and why (e.g. auto fell back)."""
        self._owned(
            lease,
            "UPDATE jobs SET backend = ?, model = ?, prompt_version = ?, notice = ?, updated_at = ? WHERE id = ?",
            (backend, model, prompt_version, notice, utcnow().isoformat()),
        )

    def record_usage(self, lease: Lease, usage: LLMUsage) -> None:
        self._owned(
            lease,
            "UPDATE jobs SET usage = ?, updated_at = ? WHERE id = ?",
            (usage.model_dump_json(), utcnow().isoformat()),
        )

    def finish(
        self, lease: Lease, tool_id: str, outcome: JobOutcome = JobOutcome.CREATED, notice: str | None = None
    ) -> None:
        """Done: the tool it made (or found unchanged), what it did, and the pipeline's notice if any."""
        now = utcnow().isoformat()
        self._owned(
            lease,
            """UPDATE jobs SET status = ?, stage = ?, progress = 1, tool_id = ?, error = NULL, error_code = NULL,
                   outcome = ?, notice = COALESCE(?, notice), updated_at = ?, finished_at = ?, lease_token = NULL
                   WHERE id = ?""",
            (JobStatus.DONE.value, Stage.DONE.value, tool_id, outcome.value, notice, now, now),
        )

    def fail(self, lease: Lease, error: str, code: str) -> None:
        now = utcnow().isoformat()
        self._owned(
            lease,
            """UPDATE jobs SET status = ?, error = ?, error_code = ?, updated_at = ?, finished_at = ?,
                   lease_token = NULL WHERE id = ?""",
            (JobStatus.FAILED.value, error, code, now, now),
        )

    def subscribe(self, wake: Callable[[], None], stop: threading.Event) -> None:
        """Nothing to listen to on SQLite: workers poll, and a server wakes its own worker itself."""

    def requeue_expired(self) -> tuple[int, int]:
        """Running jobs whose lease expired (their worker died or stopped advancing): requeue them, or
        fail those out of attempts with the reason. Never touches a job under a live lease."""
        with transaction(self.conn):
            return self._requeue_expired()

    def _requeue_expired(self) -> tuple[int, int]:
        now = utcnow().isoformat()
        expired = "status = ? AND (lease_expires_at IS NULL OR lease_expires_at < ?)"
        failed = self.conn.execute(
            f"""UPDATE jobs SET status = ?, error = ?, error_code = 'interrupted', updated_at = ?,
                   finished_at = ?, lease_token = NULL WHERE {expired} AND attempts >= ?""",
            (
                JobStatus.FAILED.value,
                f"interrupted {MAX_ATTEMPTS} times (worker stopped or stuck); giving up",
                now,
                now,
                JobStatus.RUNNING.value,
                now,
                MAX_ATTEMPTS,
            ),
        ).rowcount
        requeued = self.conn.execute(
            f"""UPDATE jobs SET status = ?, stage = ?, progress = 0, updated_at = ?, lease_owner = NULL,
                   lease_token = NULL, lease_expires_at = NULL WHERE {expired}""",
            (JobStatus.QUEUED.value, Stage.QUEUED.value, now, JobStatus.RUNNING.value, now),
        ).rowcount
        return requeued, failed


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"],
        source=row["source"],
        name=row["name"],
        extractor=row["extractor"],
        status=JobStatus(row["status"]),
        stage=Stage(row["stage"]),
        progress=row["progress"],
        tool_id=row["tool_id"],
        error=row["error"],
        error_code=row["error_code"],
        attempts=row["attempts"],
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
        finished_at=datetime.fromisoformat(row["finished_at"]) if row["finished_at"] else None,
        backend=row["backend"],
        model=row["model"],
        prompt_version=row["prompt_version"],
        notice=row["notice"],
        usage=LLMUsage.model_validate_json(row["usage"]) if row["usage"] else None,
        worker=row["lease_owner"],
        outcome=JobOutcome(row["outcome"]) if row["outcome"] else None,
    )
