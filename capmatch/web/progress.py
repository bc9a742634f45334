"""The stages a job page shows, keyed by the progress fraction the pipeline reports when it enters
each one (capmatch.models.STEP_STARTS). The page script reads the same numbers from
the markup, so the server-rendered and the live view agree. A failure before the first step (a
job abandoned in the queue) marks no step: its reason is shown on its own."""

from __future__ import annotations

from dataclasses import dataclass

from capmatch.models import STEP_STARTS, Job, JobOutcome, JobStatus


@dataclass(frozen=True)
class StageStep:
    key: str
    label: str
    starts_at: float


LABELS = {
    "fetching": "Fetching the page",
    "cleaning": "Cleaning it to text",
    "segmenting": "Finding sections and lists",
    "extracting": "Extracting capabilities",
    "verifying": "Checking every quote against the page",
    "embedding": "Embedding capabilities",
    "contrasting": "Writing Unique and vs alternatives lines",
    "indexing": "Indexing",
    "updating": "Updating similar tools' contrast lines",
    "storing": "Storing",
}
STEPS = [StageStep(key, LABELS[key], start) for key, start in STEP_STARTS.items()]
# Content already in the catalog stops after cleaning (its hash is known): the later steps never ran.
LAST_STEP_WHEN_UNCHANGED = "cleaning"
UNCHANGED_SKIPS_AFTER = STEP_STARTS[LAST_STEP_WHEN_UNCHANGED]  # for the page script, in the markup


def step_states(job: Job) -> list[tuple[StageStep, str]]:
    """Each step with its state: done, current, failed, pending, or skipped (unchanged content)."""
    states = []
    skip_after = UNCHANGED_SKIPS_AFTER if job.outcome == JobOutcome.UNCHANGED else None
    for i, step in enumerate(STEPS):
        nxt = STEPS[i + 1].starts_at if i + 1 < len(STEPS) else 1.0
        if skip_after is not None and step.starts_at > skip_after:
            state = "skipped"
        elif job.status == JobStatus.DONE or job.progress >= nxt:
            state = "done"
        elif job.progress >= step.starts_at and job.status != JobStatus.QUEUED:
            state = "failed" if job.status == JobStatus.FAILED else "current"
        else:
            state = "pending"
        states.append((step, state))
    return states
