"""The stages a job page shows, keyed by the progress fraction the pipeline reports when it enters
each one (capmatch.pipeline and Runtime.store_tool). The page script reads the same numbers from
the markup, so the server-rendered and the live view agree. A failure before the first step (a
job abandoned in the queue) marks no step: its reason is shown on its own."""

from __future__ import annotations

from dataclasses import dataclass

from capmatch.models import Job, JobStatus


@dataclass(frozen=True)
class StageStep:
    key: str
    label: str
    starts_at: float


STEPS = [
    StageStep("fetching", "Fetching the page", 0.02),
    StageStep("cleaning", "Cleaning it to text", 0.15),
    StageStep("segmenting", "Finding sections and lists", 0.25),
    StageStep("extracting", "Extracting capabilities", 0.35),
    StageStep("verifying", "Checking every quote against the page", 0.55),
    StageStep("embedding", "Embedding capabilities", 0.65),
    StageStep("contrasting", "Writing Unique and vs alternatives lines", 0.72),
    StageStep("indexing", "Indexing", 0.8),
    StageStep("updating", "Updating similar tools' contrast lines", 0.88),
    StageStep("storing", "Storing", 0.95),
]


def step_states(job: Job) -> list[tuple[StageStep, str]]:
    """Each step with its state: done, current, failed or pending."""
    states = []
    for i, step in enumerate(STEPS):
        nxt = STEPS[i + 1].starts_at if i + 1 < len(STEPS) else 1.0
        if job.status == JobStatus.DONE or job.progress >= nxt:
            state = "done"
        elif job.progress >= step.starts_at and job.status != JobStatus.QUEUED:
            state = "failed" if job.status == JobStatus.FAILED else "current"
        else:
            state = "pending"
        states.append((step, state))
    return states
