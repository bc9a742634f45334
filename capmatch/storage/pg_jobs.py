"""Ingestion jobs on PostgreSQL, for workers on many machines (see base.JobQueue).

The same rules as the SQLite queue (capmatch.storage.jobs), built for concurrency: a job is claimed
with ``FOR UPDATE SKIP LOCKED`` so claimers never wait on each other; a lease expires by the
database server's clock, the one clock every machine shares; every write for a job checks its lease
token; a submission NOTIFYs idle workers, which LISTEN instead of waiting out their poll interval.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

import psycopg

from capmatch.errors import LeaseLost, NotFound
from capmatch.models import Job, JobOutcome, JobStatus, LLMUsage, Stage, utcnow
from capmatch.storage.base import Lease
from capmatch.storage.jobs import MAX_ATTEMPTS, OPEN, _job
from capmatch.storage.pg_catalog import PgCatalog
from capmatch.storage.postgres import SUBMIT_LOCK_SPACE, PgDatabase

log = logging.getLogger(__name__)

CHANNEL = "capmatch_jobs"
# "now + n seconds" on the server's clock; clock_timestamp(), not now(): now() is frozen at the start
# of the transaction.
EXPIRY = "clock_timestamp() + make_interval(secs => ?)"
RUNNING = JobStatus.RUNNING.value


class PgJobQueue:
    def __init__(self, catalog: PgCatalog) -> None:
        self.catalog = catalog

    @property
    def db(self) -> PgDatabase:
        return self.catalog.db

    def submit(self, source: str, extractor: str, name: str | None = None) -> tuple[Job, bool]:
        """Queue a job for ``source``; an open job for the same source is returned instead (created=False)."""
        # Serialised per source: two API replicas submitting the same URL at once make one job.
        with self.db.transaction():
            self.db.execute("SELECT pg_advisory_xact_lock(?, hashtext(?))", (SUBMIT_LOCK_SPACE, source))
            row = self.db.execute(
                "SELECT * FROM jobs WHERE source = ? AND status IN (?, ?) ORDER BY created_at LIMIT 1",
                (source, *OPEN),
            ).fetchone()
            if row is not None:
                return _job(row), False  # type: ignore[arg-type]
            now = utcnow().isoformat()
            job_id = uuid.uuid4().hex
            self.db.execute(
                """INSERT INTO jobs (id, source, name, extractor, status, stage, progress, created_at,
                       updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)""",
                (job_id, source, name, extractor, JobStatus.QUEUED.value, Stage.QUEUED.value, now, now),
            )
            self.db.execute(f"NOTIFY {CHANNEL}")  # delivered at commit
        return self.get(job_id), True

    def get(self, job_id: str) -> Job:
        row = self.db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFound(f"no job with id '{job_id}'")
        return _job(row)  # type: ignore[arg-type]

    def list(self, limit: int = 50, status: str | None = None) -> list[Job]:
        if status:
            rows = self.db.execute(
                "SELECT * FROM jobs WHERE status = ? ORDER BY created_at DESC LIMIT ?", (status, limit)
            )
        else:
            rows = self.db.execute("SELECT * FROM jobs ORDER BY created_at DESC LIMIT ?", (limit,))
        return [_job(r) for r in rows]  # type: ignore[arg-type]

    # ---- leases ------------------------------------------------------------------------------
    def claim_next(self, worker: str, lease_seconds: float) -> Lease | None:
        """The oldest queued job no other worker is claiming, now running under a new lease."""
        self.requeue_expired()
        token = uuid.uuid4().hex
        with self.db.transaction():
            row = self.db.execute(
                "SELECT id FROM jobs WHERE status = ? ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED",
                (JobStatus.QUEUED.value,),
            ).fetchone()
            if row is None:
                return None
            self.db.execute(
                f"""UPDATE jobs SET status = ?, attempts = attempts + 1, updated_at = ?, lease_owner = ?,
                       lease_token = ?, lease_expires_at = {EXPIRY} WHERE id = ?""",
                (RUNNING, utcnow().isoformat(), worker, token, float(lease_seconds), row[0]),
            )
        return Lease(self.get(row[0]), worker, token)

    def _owned(self, lease: Lease, sql: str, params: tuple[object, ...]) -> None:
        """Run an UPDATE of the leased job (``sql`` ends in WHERE id = ?), only while the lease holds."""
        result = self.db.execute(
            f"{sql} AND lease_token = ? AND status = ? AND lease_expires_at >= clock_timestamp()",
            (*params, lease.job.id, lease.token, RUNNING),
        )
        if result.rowcount == 0:
            raise LeaseLost(
                f"job {lease.job.id} is no longer held by worker {lease.worker}: its lease expired and another "
                "worker may run it (CAPMATCH_WORKER_LEASE_SECONDS)"
            )

    def renew(self, lease: Lease, lease_seconds: float) -> bool:
        try:
            self._owned(lease, f"UPDATE jobs SET lease_expires_at = {EXPIRY} WHERE id = ?", (float(lease_seconds),))
        except LeaseLost:
            return False
        return True

    def check(self, lease: Lease) -> None:
        """Raise LeaseLost unless the lease still holds. Inside the store transaction this also locks
        the job row, so no requeue can slip in between the check and the commit."""
        self._owned(lease, "UPDATE jobs SET lease_owner = lease_owner WHERE id = ?", ())

    def advance(self, lease: Lease, stage: Stage, progress: float, lease_seconds: float) -> None:
        self._owned(
            lease,
            f"UPDATE jobs SET stage = ?, progress = ?, updated_at = ?, lease_expires_at = {EXPIRY} WHERE id = ?",
            (stage.value, round(progress, 3), utcnow().isoformat(), float(lease_seconds)),
        )

    def describe(
        self, lease: Lease, backend: str, model: str | None, prompt_version: str | None, notice: str | None
    ) -> None:
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

    def requeue_expired(self) -> tuple[int, int]:
        """Running jobs whose lease expired: requeue them, or fail those out of attempts. Any worker
        may call this; a job under a live lease is never touched, and a row another worker is
        requeueing at the same moment is re-checked after its commit, so it is counted once."""
        now = utcnow().isoformat()
        expired = "status = ? AND (lease_expires_at IS NULL OR lease_expires_at < clock_timestamp())"
        with self.db.transaction():
            failed = self.db.execute(
                f"""UPDATE jobs SET status = ?, error = ?, error_code = 'interrupted', updated_at = ?,
                       finished_at = ?, lease_token = NULL WHERE {expired} AND attempts >= ?""",
                (
                    JobStatus.FAILED.value,
                    f"interrupted {MAX_ATTEMPTS} times (worker stopped or stuck); giving up",
                    now,
                    now,
                    RUNNING,
                    MAX_ATTEMPTS,
                ),
            ).rowcount
            requeued = self.db.execute(
                f"""UPDATE jobs SET status = ?, stage = ?, progress = 0, updated_at = ?, lease_owner = NULL,
                       lease_token = NULL, lease_expires_at = NULL WHERE {expired}""",
                (JobStatus.QUEUED.value, Stage.QUEUED.value, now, RUNNING),
            ).rowcount
            if requeued:
                self.db.execute(f"NOTIFY {CHANNEL}")
        return requeued, failed

    # ---- waking idle workers -----------------------------------------------------------------------
    def subscribe(self, wake: Callable[[], None], stop: threading.Event) -> None:
        """Call ``wake`` whenever a job is queued anywhere, until ``stop`` is set (a daemon thread on a
        connection of its own; it reconnects after a lost connection)."""
        threading.Thread(target=self._listen, args=(wake, stop), name="capmatch-listen", daemon=True).start()

    def _listen(self, wake: Callable[[], None], stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                with self.db.connect() as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    wake()  # anything queued while we were not listening
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            wake()
            except psycopg.Error:
                log.warning("lost the job notification connection; reconnecting", exc_info=True)
                stop.wait(1.0)
