"""The command line: data on stdout, status on stderr, --json for scripts, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from capmatch.cli import app

from .conftest import FIXTURES, PAGES, ROOT

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_add_a_local_file_with_json_output() -> None:
    code, out, err = run("add", str(PAGES / "tiny.md"), "--json")
    assert code == 0, err
    tool = json.loads(out)
    assert tool["id"] == "quillpad" and tool["type"] == "Library" and len(tool["capabilities"]) >= 3
    assert "added quillpad" in err
    code, out, err = run("add", str(PAGES / "tiny.md"))
    assert code == 0 and "unchanged quillpad" in err and "Quillpad" in out


def test_ingest_jsonl_reports_failures(tmp_path: Path) -> None:
    (tmp_path / "doc.md").write_text((FIXTURES / "docs" / "fetchwire.md").read_text())
    lines = [
        {"name": "Fetchwire", "file": "doc.md", "category": "http", "stars": 1200},
        {
            "name": "Tally",
            "text": "# Tally\n\nTally is a library that counts words in large files quickly.\n\n"
            "- Counts words across many files in parallel.\n- Streams input with constant memory.\n"
            "- Supports Unicode word boundaries.",
        },
        {"name": "Nameless file", "file": "missing.md"},
        {"description": "no name here"},
    ]
    jsonl = tmp_path / "tools.jsonl"
    jsonl.write_text("\n".join(json.dumps(x) for x in lines) + "\n{not json\n")
    code, out, err = run("ingest", str(jsonl), "--json")
    assert code == 1
    summary = json.loads(out)
    assert sorted(summary["added"]) == ["fetchwire", "tally"]
    assert [f["line"] for f in summary["failed"]] == [3, 4, 5]
    assert "not found next to the JSONL" in summary["failed"][0]["error"]
    assert "2 added, 0 unchanged, 3 failed" in err
    code, out, err = run("show", "fetchwire", "--json")
    assert json.loads(out)["metadata"] == {"stars": 1200} and json.loads(out)["category"] == "http"
    code, _, err = run("ingest", str(jsonl), "--if-empty")
    assert code == 0 and "nothing to ingest" in err


def test_queries_and_maintenance() -> None:
    assert run("add", str(FIXTURES / "docs" / "fetchwire.md"))[0] == 0
    assert run("add", str(FIXTURES / "docs" / "pliant.rst"))[0] == 0
    code, out, _ = run("similar", "fetchwire", "-k", "3", "--json")
    assert code == 0 and json.loads(out)["results"][0]["tool_id"] == "pliant"
    code, out, _ = run("search", "retry requests automatically", "--json")
    assert code == 0 and json.loads(out)["results"]
    code, out, _ = run("compare", "fetchwire", "pliant")
    assert code == 0 and out.startswith("# Fetchwire vs Pliant") and "## Verdict" in out
    code, out, _ = run("compare", "fetchwire", "pliant", "--format", "json")
    assert code == 0 and json.loads(out)["alignment"]["matched"]
    code, out, _ = run("tools", "--json")
    assert code == 0 and {t["id"] for t in json.loads(out)} == {"fetchwire", "pliant"}
    code, out, err = run("reindex", "--json")
    assert code == 0 and json.loads(out)["count"] > 0 and "rebuilt flat index" in err
    code, _, err = run("delete", "pliant")
    assert code == 0 and "deleted pliant" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("similar", "nope"), "error: no tool with id 'nope'"),
        (("add", "missing-file.md"), "error: no such file: missing-file.md"),
        (("add", "http://127.0.0.1:9/x"), "CAPMATCH_ALLOW_PRIVATE_URLS=1"),
        (("compare", "a", "b", "--format", "pdf"), "error: unknown format 'pdf'"),
    ],
)
def test_errors_are_one_line_on_stderr(args: tuple[str, ...], message: str) -> None:
    code, out, err = run(*args)
    assert code == 1 and out == "" and message in err


def test_every_command_has_help_and_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()

    def leaves(group: object, prefix: str) -> list[tuple[str, object]]:
        out = []
        for name, command in group.commands.items():  # type: ignore[attr-defined]
            full = f"{prefix} {name}"
            out += leaves(command, full) if hasattr(command, "commands") else [(full, command)]
        return out

    commands = leaves(get_command(app), "capmatch")
    assert len(commands) >= 14
    for name, command in commands:
        assert command.help and "Example:" in command.help, name  # type: ignore[attr-defined]
        assert name in readme, f"`{name}` is missing from README.md"


def test_vendor_text_is_printed_as_text_not_markup(tmp_path: Path) -> None:
    page = tmp_path / "brackets.md"
    page.write_text(
        "# Bracket [/bold] Kit\n\nBracket Kit is a Python library for typed containers.\n\n## Features\n\n"
        "- Declares list[int] and dict[str, int] fields with validation.\n- Closes [/bold] tags in reports.\n"
        "- Serialises containers to JSON and back.\n"
    )
    code, out, err = run("add", str(page))
    assert code == 0, err
    assert "list[int] and dict[str, int]" in out and "[/bold]" in out
    code, out, _ = run("tools")  # a table cell with "[/bold]" must not crash the renderer
    assert code == 0 and "[/bo" in out


def one_line(text: str) -> str:
    return " ".join(text.split())


def test_ingest_refuses_files_that_are_not_jsonl_with_one_clear_line(tmp_path: Path) -> None:
    png = tmp_path / "logo.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    code, _, err = run("ingest", str(png))
    assert code == 1 and err.count("\n") == 1, err
    assert f"error: {png} is not UTF-8 text (byte 0x89 at offset 0)" in err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    code, _, err = run("ingest", str(empty))
    assert code == 1 and f"error: {empty} has no records" in err
    markdown = tmp_path / "page.md"
    markdown.write_text("# Tally\n\nTally counts words.\n")
    code, _, err = run("ingest", str(markdown))
    assert code == 1 and err.count("\n") == 1
    assert (
        f"is not JSONL (one JSON object per line, starting with '{{'): did you mean `capmatch add {markdown}`?" in err
    )


def test_failure_labels_name_the_record_and_piped_output_is_not_cut(tmp_path: Path) -> None:
    jsonl = tmp_path / "tools.jsonl"
    long_name = "A tool with a name far longer than eighty columns of a terminal, which a pipe must keep whole"
    jsonl.write_text(
        json.dumps({"name": long_name, "text": "# T\n\nIt counts words in large files quickly and in parallel."})
        + "\n"
        + json.dumps({"description": "no name here"})
        + "\n"
    )
    code, _, err = run("ingest", str(jsonl))
    assert code == 1
    assert "  line 2: the record has no 'name'" in err and "(line 2)" not in err
    code, out, _ = run("tools")
    assert code == 0 and long_name in one_line(out) and "…" not in out
    code, _, err = run("show", "nope")
    assert code == 1 and err.count("\n") == 1, "an error is one line even when longer than 80 columns"
