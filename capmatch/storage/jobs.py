"""Persisted ingestion jobs: created by the API, claimed and advanced by the worker."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime, timedelta

from capmatch.errors import NotFound
from capmatch.models import Job, JobStatus, LLMUsage, Stage, utcnow
from capmatch.storage.catalog import CatalogStore
from capmatch.storage.sqlite import transaction

OPEN = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
MAX_ATTEMPTS = 3


class JobStore:
    def __init__(self, store: CatalogStore) -> None:
        self.store = store

    @property
    def conn(self) -> sqlite3.Connection:
        return self.store.conn

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

    def claim_next(self) -> Job | None:
        with transaction(self.conn):
            row = self.conn.execute(
                "SELECT id FROM jobs WHERE status = ? ORDER BY created_at LIMIT 1", (JobStatus.QUEUED.value,)
            ).fetchone()
            if row is None:
                return None
            self.conn.execute(
                "UPDATE jobs SET status = ?, attempts = attempts + 1, updated_at = ? WHERE id = ?",
                (JobStatus.RUNNING.value, utcnow().isoformat(), row[0]),
            )
        return self.get(row[0])

    def advance(self, job_id: str, stage: Stage, progress: float) -> None:
        self.conn.execute(
            "UPDATE jobs SET stage = ?, progress = ?, updated_at = ? WHERE id = ?",
            (stage.value, round(progress, 3), utcnow().isoformat(), job_id),
        )

    def describe(
        self, job_id: str, backend: str, model: str | None, prompt_version: str | None, notice: str | None
    ) -> None:
        """Which backend, model and prompt version run this job, and why (e.g. auto fell back)."""
        self.conn.execute(
            "UPDATE jobs SET backend = ?, model = ?, prompt_version = ?, notice = ?, updated_at = ? WHERE id = ?",
            (backend, model, prompt_version, notice, utcnow().isoformat(), job_id),
        )

    def record_usage(self, job_id: str, usage: LLMUsage) -> None:
        self.conn.execute(
            "UPDATE jobs SET usage = ?, updated_at = ? WHERE id = ?",
            (usage.model_dump_json(), utcnow().isoformat(), job_id),
        )

    def finish(self, job_id: str, tool_id: str) -> None:
        now = utcnow().isoformat()
        self.conn.execute(
            """UPDATE jobs SET status = ?, stage = ?, progress = 1, tool_id = ?, error = NULL,
                   error_code = NULL, updated_at = ?, finished_at = ? WHERE id = ?""",
            (JobStatus.DONE.value, Stage.DONE.value, tool_id, now, now, job_id),
        )

    def fail(self, job_id: str, error: str, code: str) -> None:
        now = utcnow().isoformat()
        self.conn.execute(
            """UPDATE jobs SET status = ?, error = ?, error_code = ?, updated_at = ?, finished_at = ?
               WHERE id = ?""",
            (JobStatus.FAILED.value, error, code, now, now, job_id),
        )

    def reap_stale(self, older_than_seconds: float) -> tuple[int, int]:
        """Running jobs nobody has advanced for ``older_than_seconds`` (a worker that died or hangs):
        requeue them, or fail those out of attempts with the reason."""
        cutoff = (utcnow() - timedelta(seconds=older_than_seconds)).isoformat()
        return self._requeue_or_fail("updated_at < ?", (cutoff,), "stalled")

    def _requeue_or_fail(self, where: str, params: tuple[object, ...], why: str) -> tuple[int, int]:
        with transaction(self.conn):
            now = utcnow().isoformat()
            failed = self.conn.execute(
                f"""UPDATE jobs SET status = ?, error = ?, error_code = 'interrupted', updated_at = ?,
                       finished_at = ? WHERE status = ? AND attempts >= ? AND {where}""",
                (
                    JobStatus.FAILED.value,
                    f"{why} {MAX_ATTEMPTS} times (server stopped or worker stuck); giving up",
                    now,
                    now,
                    JobStatus.RUNNING.value,
                    MAX_ATTEMPTS,
                    *params,
                ),
            ).rowcount
            requeued = self.conn.execute(
                f"""UPDATE jobs SET status = ?, stage = ?, progress = 0, updated_at = ?
                    WHERE status = ? AND {where}""",
                (JobStatus.QUEUED.value, Stage.QUEUED.value, now, JobStatus.RUNNING.value, *params),
            ).rowcount
        return requeued, failed

    def recover(self) -> tuple[int, int]:
        """After a restart no job can still be running: requeue them, or fail those out of attempts."""
        return self._requeue_or_fail("1 = 1", (), "interrupted")


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
    )
