"""Named stop points for crash tests. With CAPMATCH_FAILPOINT=<name>, the process writes the name
to CAPMATCH_FAILPOINT_MARKER (when set) and then sleeps at that point, so a test can SIGKILL it
at a known place in the pipeline. Unset, a failpoint costs one environment lookup."""

from __future__ import annotations

import os
import time
from pathlib import Path


def failpoint(name: str) -> None:
    if os.environ.get("CAPMATCH_FAILPOINT") != name:
        return
    marker = os.environ.get("CAPMATCH_FAILPOINT_MARKER")
    if marker:
        Path(marker).write_text(name, encoding="utf-8")
    time.sleep(3600)
