"""Dependencies as named aliases, so route signatures read as sentences."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.worker import JobWorker
from capmatch.core import CapMatch


def get_core(request: Request) -> CapMatch:
    return request.app.state.core  # type: ignore[no-any-return]


def get_worker(request: Request) -> JobWorker:
    return request.app.state.worker  # type: ignore[no-any-return]


CoreDep = Annotated[CapMatch, Depends(get_core)]
WorkerDep = Annotated[JobWorker, Depends(get_worker)]
