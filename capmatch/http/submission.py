"""Queueing a URL for ingestion: shared by `POST /api/tools` and the submit page, so both refuse
the same things with the same errors."""

from __future__ import annotations

from fastapi.concurrency import run_in_threadpool

from capmatch.errors import LLMNotConfigured
from capmatch.extractor.decompose import resolve_backend
from capmatch.extractor.netguard import check_submitted, policy_from
from capmatch.models import Job
from capmatch.pipeline.worker import JobWorker
from capmatch.runtime import Runtime


async def submit_url(
    core: Runtime, worker: JobWorker | None, url: str, extractor: str | None, name: str | None
) -> tuple[Job, bool]:
    """The job for ``url`` and whether it was created (False: that URL's job was still open)."""
    chosen = (extractor or core.settings.extractor).strip().lower()
    backend, _ = resolve_backend(chosen, core.settings)  # 400 for an unknown name
    if backend == "llm" and not core.settings.llm_configured:
        raise LLMNotConfigured()
    # Resolving the host blocks: keep it off the event loop.
    await run_in_threadpool(check_submitted, url, policy_from(core.settings))
    job, created = await run_in_threadpool(core.jobs.submit, url, chosen, name)
    if created and worker is not None:
        worker.notify()  # other worker processes poll
    return job, created
