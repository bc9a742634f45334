"""The background worker: runs queued ingestion jobs one at a time inside the server process."""

from __future__ import annotations

import logging
import threading
import time

from capmatch.core import CapMatch
from capmatch.errors import CapmatchError
from capmatch.failpoints import failpoint
from capmatch.llm.meter import UsageMeter
from capmatch.models import Job, Stage
from capmatch.pipeline.ingest import Source, ingest, record_calls

REAP_EVERY = 30.0  # seconds between looks for jobs nobody is advancing
log = logging.getLogger(__name__)


class JobWorker:
    def __init__(self, core: CapMatch, poll_seconds: float = 1.0) -> None:
        self.core = core
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="capmatch-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def notify(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        try:
            # Off the request path: loads the model and checks the saved index against the database.
            status = self.core.verify_index()
            if status.rebuilt:
                log.warning("vector index rebuilt from the database (%d vectors)", status.count)
        except Exception:
            log.exception("could not verify the vector index")
        reaped_at = 0.0
        while not self._stop.is_set():
            if time.monotonic() - reaped_at > REAP_EVERY:
                reaped_at = time.monotonic()
                self._reap()
            try:
                job = self.core.jobs.claim_next()
            except Exception:  # e.g. the database is briefly unavailable: retry, never die
                log.exception("could not claim a job")
                job = None
            if job is None:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
                continue
            try:
                self.process(job)
            except Exception:  # recording the outcome failed; the reaper of a later start requeues it
                log.exception("could not record the outcome of job %s", job.id)

    def _reap(self) -> None:
        try:
            requeued, failed = self.core.jobs.reap_stale(self.core.settings.job_stale_seconds)
        except Exception:
            log.exception("could not reap stale jobs")
            return
        if requeued or failed:
            log.warning("stale jobs: %d requeued, %d failed after too many attempts", requeued, failed)

    def _advance(self, job_id: str, stage: Stage, fraction: float) -> None:
        self.core.jobs.advance(job_id, stage, fraction)
        failpoint(stage.value)

    def process(self, job: Job) -> None:
        jobs = self.core.jobs
        meter = UsageMeter()
        try:
            result = ingest(
                self.core,
                Source(url=job.source, name=job.name, extractor=job.extractor),
                progress=lambda stage, fraction: self._advance(job.id, stage, fraction),
                meter=meter,
                on_backend=lambda info: jobs.describe(
                    job.id, info.backend, info.model, info.prompt_version, info.notice
                ),
            )
            failpoint("stored")  # committed, the job not yet marked done
            jobs.finish(job.id, result.tool.id)
        except CapmatchError as exc:
            jobs.fail(job.id, exc.message, exc.code)
        except Exception as exc:  # a bug must fail the job with a reason, not kill the worker
            log.exception("job %s failed", job.id)
            jobs.fail(job.id, f"internal error: {type(exc).__name__}: {exc}", "internal_error")
        finally:
            # What the job spent, retries and re-asks included, whether it succeeded or not.
            if meter.usage.requests or meter.usage.cached:
                jobs.record_usage(job.id, meter.snapshot())
            record_calls(self.core, meter, job.id)
