"""The package's shape: one import name, layers that only point down, no import circles.

Layers, bottom to top (a module may import its own package and any lower layer; packages sharing a
layer may not import each other):

  0 base        capmatch (version), settings, errors, failpoints, models, slug
  1 storage     catalog, job queue, migrations, export/import (the only code touching a database)
  2 embeddings, llm, prompts
  3 extractor   fetch, clean, segment, decompose, classify, verify
  4 matching    similar, search, contrast, rank, graph, compare
  5 pipeline    ingest, write path, worker
  6 runtime     one process's parts assembled
  7 http        access, dependencies, caching, errors shared by the API and the pages
  8 api, web
  9 app         the app factory
 10 evaluation
 11 cli
"""

from __future__ import annotations

import ast
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT

PACKAGE = ROOT / "capmatch"
LAYERS: list[set[str]] = [
    {"capmatch", "capmatch.settings", "capmatch.errors", "capmatch.failpoints", "capmatch.models", "capmatch.slug"},
    {"capmatch.storage"},
    {"capmatch.embeddings", "capmatch.llm", "capmatch.prompts"},
    {"capmatch.extractor"},
    {"capmatch.matching"},
    {"capmatch.pipeline"},
    {"capmatch.runtime"},
    {"capmatch.http"},
    {"capmatch.api", "capmatch.web"},
    {"capmatch.app"},
    {"capmatch.evaluation"},
    {"capmatch.cli"},
]


def unit_of(module: str) -> str:
    """The layer unit a module belongs to: the longest name in LAYERS that is a prefix of it."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if any(candidate in layer for layer in LAYERS):
            return candidate
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")


def layer_of(unit: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if unit in layer)


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports_of(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """capmatch modules imported by ``module`` at import time or in functions (TYPE_CHECKING too)."""
    out = set()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            # `from capmatch.x import y` may import the submodule y
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        out |= {n for n in names if n == "capmatch" or n.startswith("capmatch.")}
    return out - {module}


def test_no_import_goes_up_or_sideways_between_layers() -> None:
    known = modules()
    problems = []
    for module, path in sorted(known.items()):
        source = unit_of(module)
        for target in sorted(imports_of(module, path, known)):
            unit = unit_of(target)
            if unit == source or layer_of(unit) == layer_of(source) == 0:  # the ground floor is one unit
                continue
            if layer_of(unit) > layer_of(source):
                problems.append(f"{module} imports {target}: layer {layer_of(unit)} above its own {layer_of(source)}")
            elif layer_of(unit) == layer_of(source):
                problems.append(f"{module} imports {target}: two packages of one layer import each other")
    assert not problems, "\n".join(problems)


def test_no_import_circle_between_files() -> None:
    known = modules()
    graph = {m: {t for t in imports_of(m, p, known) if t in known and t != m} for m, p in known.items()}
    # A package importing its own submodules (re-exports) is not a circle of files.
    graph = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in graph.items()}
    visiting: list[str] = []
    done: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        if node in done:
            return
        if node in visiting:
            circles.append([*visiting[visiting.index(node) :], node])
            return
        visiting.append(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt)
        visiting.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        timeout=300,
    )
    return next(out.glob("capmatch-*.whl"))


def test_the_wheel_installs_one_top_level_name(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    top = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith((".dist-info", ".data"))}
    assert top == {"capmatch"}
    record = next(n for n in names if n.endswith(".dist-info/RECORD"))
    with zipfile.ZipFile(wheel) as archive:
        listed = {line.split(",", 1)[0].split("/", 1)[0] for line in archive.read(record).decode().splitlines()}
    assert {t for t in listed if not t.endswith(".dist-info")} == {"capmatch"}
    # Package data travels with it: migrations, templates, prompts, static files.
    for needed in (
        "capmatch/storage/migrations/0001_initial.sql",
        "capmatch/storage/pg_migrations/0001_initial.sql",
        "capmatch/prompts/decompose.j2",
        "capmatch/web/templates/base.html",
        "capmatch/matching/templates/comparison.md.j2",
    ):
        assert needed in names, needed


def test_the_wheel_installs_beside_the_llm_distribution(wheel: Path, tmp_path: Path) -> None:
    """`llm` (a popular CLI) is a top-level name capmatch used to take; both must import side by side."""
    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(target)
    python = target / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "--no-deps", str(wheel)], check=True, timeout=300)
    subprocess.run([*pip, "llm"], check=True, timeout=600)
    probe = (
        "import importlib.util, capmatch, llm; "
        "print(capmatch.__version__, llm.__file__, importlib.util.find_spec('capmatch.extractor.fetch').origin)"
    )
    result = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    version, llm_file, fetch_file = result.stdout.split()
    assert version and "site-packages/llm/" in llm_file and "site-packages/capmatch/extractor/fetch.py" in fetch_file
