"""`capmatch export` / `capmatch import`: a lossless round trip of the catalog, and imports that are
refused whole (a bad line, another model, a non-empty catalog) leave the target exactly as it was."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capmatch.cli import app
from capmatch.embeddings.model import SentenceTransformerEmbedder
from capmatch.errors import InvalidInput
from capmatch.pipeline.ingest import Source
from capmatch.runtime import Runtime
from capmatch.settings import Settings

from .conftest import FIXTURES, PAGES

DOCS = [("fetchwire.md", "http-clients"), ("pliant.rst", "http-clients"), ("emberq.md", "task-queues")]
# The source catalog is always SQLite; the target is SQLite or PostgreSQL: moving a catalog from one
# machine's SQLite into a shared PostgreSQL is `capmatch export` then `capmatch import`.
pytestmark = pytest.mark.both_backends


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Runtime:
    core = Runtime(Settings(home=tmp_path_factory.mktemp("source"), database_url=None), embedder=embedder)
    for name, category in DOCS:
        core.ingest(Source(path=FIXTURES / "docs" / name, category=category, metadata={"stars": 1234}))
    core.ingest(Source(path=PAGES / "quillpad.txt"))  # vendor markup and non-ASCII-safe text
    core.similar("fetchwire", k=2)  # times matched > 0 must survive too
    return core


def export_text(core: Runtime, path: Path) -> list[str]:
    with path.open("w", encoding="utf-8") as out:
        core.export_catalog(out)
    return path.read_text(encoding="utf-8").splitlines()


def fresh(tmp_path: Path, embedder: SentenceTransformerEmbedder, name: str = "target") -> Runtime:
    return Runtime(Settings(home=tmp_path / name), embedder=embedder)


def test_round_trip_is_lossless(source: Runtime, tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    first = export_text(source, tmp_path / "a.jsonl")
    target = fresh(tmp_path, embedder)
    assert target.import_catalog(tmp_path / "a.jsonl") == 4
    second = export_text(target, tmp_path / "b.jsonl")
    header_a, header_b = json.loads(first[0]), json.loads(second[0])
    assert header_a["tools"] == header_b["tools"] == 4
    assert first[1:] == second[1:], "every row, id and vector comes back byte for byte"

    for tool in source.catalog.list_tools():
        assert target.catalog.get_tool(tool.id) == source.catalog.get_tool(tool.id)
        assert target.catalog.source_text(tool.id) == source.catalog.source_text(tool.id)
    counts = {t.id: t.times_matched for t in target.catalog.list_tools()}
    assert counts == {t.id: t.times_matched for t in source.catalog.list_tools()} and max(counts.values()) >= 1
    assert target.index().count() == source.index().count()
    before = [(h.tool_id, h.score) for h in source.similar("pliant", k=3, count_matches=False)]
    after = [(h.tool_id, h.score) for h in target.similar("pliant", k=3, count_matches=False)]
    assert before == after
    assert sorted(target.catalog.match_edges()) == sorted(source.catalog.match_edges())


def test_import_only_into_an_empty_catalog(
    source: Runtime, tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    export_text(source, tmp_path / "a.jsonl")
    with pytest.raises(InvalidInput, match="already has 4 tools"):
        source.import_catalog(tmp_path / "a.jsonl")
    assert source.catalog.tool_count() == 4


def broken_variants(lines: list[str]) -> dict[str, tuple[list[str], str]]:
    tool = json.loads(lines[2])
    unknown_column = dict(tool, row={**tool["row"], "name) VALUES (1); DROP TABLE tools; --": 1})
    other_model = dict(json.loads(lines[0]), embedding_model="some-other-model")
    return {
        "a line cut short": ([*lines[:3], lines[3][: len(lines[3]) // 2], *lines[4:]], ":4:"),
        "an unknown column": ([*lines[:2], json.dumps(unknown_column), *lines[3:]], "unknown tools column"),
        "another model": ([json.dumps(other_model), *lines[1:]], "CAPMATCH_EMBEDDING_MODEL=some-other-model"),
        "not an export": (['{"hello": 1}', *lines[1:]], "not a capmatch export header"),
        "a duplicate tool": ([*lines, lines[1]], "UNIQUE constraint failed|duplicate key value violates unique"),
        "an unknown record": ([*lines, '{"kind": "job"}'], "unknown record kind"),
        "empty": ([], "is empty"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "a line cut short",
        "an unknown column",
        "another model",
        "not an export",
        "a duplicate tool",
        "an unknown record",
        "empty",
    ],
)
def test_a_bad_file_imports_nothing(
    case: str, source: Runtime, tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    lines = export_text(source, tmp_path / "good.jsonl")
    bad, message = broken_variants(lines)[case]
    (tmp_path / "bad.jsonl").write_text("".join(line + "\n" for line in bad), encoding="utf-8")
    target = fresh(tmp_path, embedder)
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(")):
        target.import_catalog(tmp_path / "bad.jsonl")
    assert target.catalog.tool_count() == 0 and target.catalog.capability_count() == 0
    assert target.index().count() == 0
    assert target.catalog.conn.execute("SELECT COUNT(*) FROM alternatives").fetchone()[0] == 0
    # The refused import leaves the catalog usable: the good file still goes in.
    assert target.import_catalog(tmp_path / "good.jsonl") == 4


def test_cli_round_trip(source: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    target_database = os.environ.pop("CAPMATCH_DATABASE_URL", None)  # the export reads the SQLite source
    monkeypatch.setenv("CAPMATCH_HOME", str(source.settings.home))
    exported = runner.invoke(app, ["export", str(tmp_path / "backup.jsonl"), "--json"])
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.stdout)["tools"] == 4
    assert not (tmp_path / "backup.jsonl.partial").exists()

    if target_database:
        monkeypatch.setenv("CAPMATCH_DATABASE_URL", target_database)
    monkeypatch.setenv("CAPMATCH_HOME", str(tmp_path / "restored"))
    imported = runner.invoke(app, ["import", str(tmp_path / "backup.jsonl"), "--json"])
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout)["tools"] == 4
    again = runner.invoke(app, ["import", str(tmp_path / "backup.jsonl")])
    assert again.exit_code != 0 and "already has 4 tools" in " ".join(again.stderr.split())


def tamper_vector(lines: list[str], change: str) -> list[str]:
    """The export with the vectors of its first tool changed as an attacker would."""
    import base64

    import numpy as np

    tool = json.loads(lines[1])
    for cap in tool["capabilities"]:
        vector = np.frombuffer(base64.b64decode(cap["row"]["embedding"]["$b64"]), dtype=np.float32).copy()
        if change == "scaled":
            vector *= 1e6
        elif change == "nan":
            vector[0] = np.nan
        elif change == "inf":
            vector[3] = np.inf
        elif change == "short":
            vector = vector[:-1]
        elif change == "zero":
            vector[:] = 0
        blob = vector.tobytes() + (b"\x00" if change == "odd-bytes" else b"")
        cap["row"]["embedding"] = {"$b64": base64.b64encode(blob).decode("ascii")}
    return [lines[0], json.dumps(tool), *lines[2:]]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("scaled", r"length 1e\+06, not 1"),
        ("zero", "length 0, not 1"),
        ("nan", "NaN or infinite"),
        ("inf", "NaN or infinite"),
        ("short", "has 383 dimensions"),
        ("odd-bytes", "not a whole number of float32"),
    ],
)
def test_bad_vectors_are_refused_with_the_line(
    change: str, message: str, source: Runtime, tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    lines = export_text(source, tmp_path / "good.jsonl")
    (tmp_path / "bad.jsonl").write_text("".join(line + "\n" for line in tamper_vector(lines, change)), "utf-8")
    target = fresh(tmp_path, embedder)
    with pytest.raises(InvalidInput, match=f"bad.jsonl:2: .*{message}"):
        target.import_catalog(tmp_path / "bad.jsonl")
    assert target.catalog.tool_count() == 0 and target.index().count() == 0


def test_cli_import_of_bad_vectors_says_why_without_a_traceback(
    source: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = export_text(source, tmp_path / "good.jsonl")
    (tmp_path / "bad.jsonl").write_text("".join(line + "\n" for line in tamper_vector(lines, "short")), "utf-8")
    monkeypatch.setenv("CAPMATCH_HOME", str(tmp_path / "restored"))
    result = CliRunner().invoke(app, ["import", str(tmp_path / "bad.jsonl")])
    assert result.exit_code != 0
    assert "Traceback" not in result.output and "383 dimensions" in " ".join(result.stderr.split())
    assert result.exception is None or isinstance(result.exception, SystemExit)
