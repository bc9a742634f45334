"""A first `make run` / `make test` is not silent: the install says what it is doing, with the
expected time, at once (issue 14: the old `pip install --quiet` printed nothing for 4 minutes)."""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import ROOT


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_a_fresh_install_says_what_it_does_within_ten_seconds(tmp_path: Path) -> None:
    started = time.monotonic()
    # Run as a user would, also when the suite itself runs under `make test`: a nested make would
    # print "make[1]: Entering directory" first.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    process = subprocess.Popen(
        ["make", "--no-print-directory", "install", f"VENV={tmp_path / 'venv'}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: stopped below with everything it started
    )
    try:
        assert process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        assert selector.select(timeout=10), "make install printed nothing for 10 s"
        first = process.stdout.readline()
        assert time.monotonic() - started < 10
        assert first.startswith("==> [1/3] creating ") and "with Python 3." in first, first
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def test_every_install_step_states_its_expected_time() -> None:
    recipe = (ROOT / "Makefile").read_text()
    steps = [line for line in recipe.splitlines() if '@echo "==> [' in line]
    assert [s.split("==> ")[1][:5] for s in steps] == ["[1/3]", "[2/3]", "[3/3]"]
    assert all("minute" in s for s in steps[1:]), steps
    assert "--quiet" not in recipe.split("$(STAMP): pyproject.toml", 1)[1].split("touch $(STAMP)", 1)[0]
