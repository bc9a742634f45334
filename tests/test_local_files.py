"""Local files through the CLI: `capmatch ingest` reads only inside the JSONL's folder (unless
--allow-outside), and a local file's public URL is `local:<file name>`, never a server path."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from capmatch.cli import app

from .conftest import FIXTURES, PAGES

runner = CliRunner()
SECRET = "Secretive is a library that syncs private ledger files between hosts every hour."


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def layout(tmp_path: Path) -> tuple[Path, Path]:
    """catalog/records.jsonl next to catalog/inside.md, and outside/secret.md next to catalog/."""
    folder, outside = tmp_path / "catalog", tmp_path / "outside"
    folder.mkdir()
    outside.mkdir()
    (folder / "inside.md").write_text((FIXTURES / "docs" / "fetchwire.md").read_text())
    (outside / "secret.md").write_text(
        "# Secretive\n\n" + SECRET + "\n\n- Syncs ledgers.\n- Encrypts ledgers.\n- Audits ledgers.\n"
    )
    return folder, outside / "secret.md"


def ingest_lines(folder: Path, lines: list[dict[str, object]], *flags: str) -> dict[str, object]:
    (folder / "records.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    _code, out, err = run("ingest", str(folder / "records.jsonl"), "--json", *flags)
    assert out, err
    return json.loads(out)  # type: ignore[no-any-return]


def test_ingest_refuses_files_outside_the_jsonl_folder(tmp_path: Path) -> None:
    folder, secret = layout(tmp_path)
    (folder / "link.md").symlink_to(secret)
    report = ingest_lines(
        folder,
        [
            {"name": "Relative", "file": "../outside/secret.md"},
            {"name": "Absolute", "file": str(secret)},
            {"name": "Symlink", "file": "link.md"},
            {"name": "Inside", "file": "inside.md"},
        ],
    )
    errors = {f["line"]: f["error"] for f in report["failed"]}  # type: ignore[union-attr]
    assert set(errors) == {1, 2, 3}, report
    assert all("outside the JSONL's folder" in e and "--allow-outside" in e for e in errors.values())
    assert report["added"] == ["inside"], report
    code, out, _ = run("tools", "--json")
    assert code == 0 and "Secretive" not in out and "ledger" not in out


def test_allow_outside_reads_them(tmp_path: Path) -> None:
    folder, _ = layout(tmp_path)
    report = ingest_lines(folder, [{"name": "Secretive", "file": "../outside/secret.md"}], "--allow-outside")
    assert report["added"] == ["secretive"] and not report["failed"], report


def test_a_local_file_is_published_as_local_name(tmp_path: Path) -> None:
    code, out, err = run("add", str(PAGES / "tiny.md"), "--json")
    assert code == 0, err
    tool = json.loads(out)
    assert tool["url"] == "local:tiny.md"
    assert "file://" not in out and str(PAGES) not in out
    # The demo tools (ingested from fixtures/demo.jsonl) too.
    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / "docs").symlink_to(FIXTURES / "docs")
    first = (FIXTURES / "demo.jsonl").read_text().splitlines()[0]
    (demo / "demo.jsonl").write_text(first + "\n")
    assert run("ingest", str(demo / "demo.jsonl"), "--allow-outside")[0] == 0
    code, out, _ = run("show", "wardline-guard", "--json")
    assert json.loads(out)["url"] == "local:wardline-guard.html" and "file://" not in out


def test_a_canonical_url_is_kept(tmp_path: Path) -> None:
    folder, _ = layout(tmp_path)
    report = ingest_lines(folder, [{"name": "Inside", "file": "inside.md", "url": "https://example.com/inside"}])
    assert report["added"] == ["inside"]
    assert json.loads(run("show", "inside", "--json")[1])["url"] == "https://example.com/inside"
