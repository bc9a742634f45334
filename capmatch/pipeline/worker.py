"""The job worker: claims queued ingestion jobs under a lease and runs up to N of them at once.

It runs inside `capmatch serve` (by default) or on its own as `capmatch worker`, one or several per
catalog. A claimed job carries a lease (worker id, token, expiry). A heartbeat renews the leases of
this worker's jobs while they keep advancing; a worker that dies (or a job stuck for
CAPMATCH_JOB_STALE_SECONDS without progress) lets its lease expire, and any worker then requeues the
job. Every write for a job names the lease token, so a worker that lost its job can neither advance,
finish, fail nor store it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from capmatch.errors import CapmatchError, LeaseLost
from capmatch.failpoints import failpoint
from capmatch.llm.meter import UsageMeter
from capmatch.models import Stage
from capmatch.pipeline.ingest import Ingestor, Source, record_calls
from capmatch.settings import Settings
from capmatch.storage.base import Catalog, JobQueue, Lease

log = logging.getLogger(__name__)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class JobWorker:
    def __init__(
        self,
        jobs: JobQueue,
        ingestor: Ingestor,
        catalog: Catalog,
        settings: Settings,
        on_start: Callable[[], None] | None = None,
        poll_seconds: float = 1.0,
    ) -> None:
        self.jobs = jobs
        self.ingestor = ingestor
        self.catalog = catalog
        self.settings = settings
        self.on_start = on_start
        self.poll_seconds = poll_seconds
        self.id = worker_id()
        self.concurrency = settings.worker_concurrency
        self.lease_seconds = settings.worker_lease_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="capmatch-job")
        self._running: dict[str, tuple[Lease, float]] = {}  # job id -> (lease, last advance, monotonic)
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._lock = threading.Lock()

    def start(self) -> None:
        # Woken when any process queues a job (PostgreSQL NOTIFY), not only after a poll interval.
        self.jobs.subscribe(self.notify, self._stop)
        for target, name in ((self._run, "capmatch-worker"), (self._heartbeat, "capmatch-heartbeat")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def run_forever(self) -> None:
        """For `capmatch worker`: run until interrupted."""
        self.start()
        try:
            while not self._stop.wait(1.0):
                pass
        finally:
            self.stop()

    def notify(self) -> None:
        self._wake.set()

    # ---- claiming ------------------------------------------------------------------------------
    def _run(self) -> None:
        if self.on_start is not None:
            try:
                self.on_start()  # e.g. load the model and check the saved index, off the request path
            except Exception:
                log.exception("worker start-up check failed")
        log.info("worker %s ready: claiming jobs", self.id)  # `capmatch bench ingest --workers` waits for it
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=self.poll_seconds):
                continue
            try:
                lease = self.jobs.claim_next(self.id, self.lease_seconds)
            except Exception:  # e.g. the database is briefly unavailable: retry, never die
                log.exception("could not claim a job")
                lease = None
            if lease is None:
                self._slots.release()
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
                continue
            with self._lock:
                self._running[lease.job.id] = (lease, time.monotonic())
            self._pool.submit(self._process_and_release, lease)

    def _process_and_release(self, lease: Lease) -> None:
        try:
            self.process(lease)
        except Exception:  # recording the outcome failed; the lease expires and another worker retries
            log.exception("could not record the outcome of job %s", lease.job.id)
        finally:
            with self._lock:
                self._running.pop(lease.job.id, None)
            self._slots.release()
            self._wake.set()

    # ---- leases ------------------------------------------------------------------------------
    def _heartbeat(self) -> None:
        """Renew the leases of jobs that still advance; let a stuck job's lease run out."""
        interval = max(0.2, self.lease_seconds / 3)
        while not self._stop.wait(interval):
            with self._lock:
                running = list(self._running.values())
            for lease, advanced in running:
                if time.monotonic() - advanced > self.settings.job_stale_seconds:
                    continue  # stuck: its lease expires and the job is requeued elsewhere
                try:
                    self.jobs.renew(lease, self.lease_seconds)
                except Exception:
                    log.exception("could not renew the lease of job %s", lease.job.id)
            try:
                requeued, failed = self.jobs.requeue_expired()
                if requeued or failed:
                    log.warning("expired job leases: %d requeued, %d failed after too many attempts", requeued, failed)
            except Exception:
                log.exception("could not requeue expired jobs")

    def _advance(self, lease: Lease, stage: Stage, fraction: float) -> None:
        self.jobs.advance(lease, stage, fraction, self.lease_seconds)
        with self._lock:
            if lease.job.id in self._running:
                self._running[lease.job.id] = (lease, time.monotonic())
        failpoint(stage.value)

    # ---- one job -----------------------------------------------------------------------------
    def process(self, lease: Lease) -> None:
        job, jobs = lease.job, self.jobs
        meter = UsageMeter()
        try:
            try:
                result = self.ingestor.ingest(
                    Source(url=job.source, name=job.name, extractor=job.extractor),
                    progress=lambda stage, fraction: self._advance(lease, stage, fraction),
                    meter=meter,
                    on_backend=lambda info: jobs.describe(
                        lease, info.backend, info.model, info.prompt_version, info.notice
                    ),
                    guard=lambda: jobs.check(lease),
                )
            except LeaseLost:
                raise
            except CapmatchError as exc:
                self._record_usage(lease, meter)
                jobs.fail(lease, exc.message, exc.code)
                return
            except Exception as exc:  # a bug must fail the job with a reason, not kill the worker
                log.exception("job %s failed", job.id)
                self._record_usage(lease, meter)
                jobs.fail(lease, f"internal error: {type(exc).__name__}: {exc}", "internal_error")
                return
            failpoint("stored")  # committed, the job not yet marked done
            self._record_usage(lease, meter)
            jobs.finish(lease, result.tool.id, result.outcome, result.notice)
        except LeaseLost:
            log.warning("job %s: lease lost; another worker owns it now", job.id)
        finally:
            record_calls(self.catalog, meter, job.id)

    def _record_usage(self, lease: Lease, meter: UsageMeter) -> None:
        """What the job spent, retries and re-asks included, whether it succeeded or not."""
        if meter.usage.requests or meter.usage.cached:
            self.jobs.record_usage(lease, meter.snapshot())
