"""`embedrock ingest FILE --out DIR` as a user runs it: the pipeline against the Bedrock emulator."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration

FIXTURES = ROOT / "tests" / "fixtures" / "ingest"


def ingest(*arguments: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "embedrock_local.cli", "ingest", *map(str, arguments), "--no-progress"]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_ingest_embeds_a_file_reports_bad_lines_and_reuses_the_result(tmp_path: Path) -> None:
    # Given the JSONL fixture with bad lines
    shutil.copy(FIXTURES / "bad.jsonl", tmp_path)
    # When `embedrock ingest` runs on it
    first = ingest("bad.jsonl", "--out", "out", cwd=tmp_path)
    # Then it succeeds and prints the counts, the output and manifest paths and each bad line
    assert first.returncode == 0, first.stderr
    assert "complete: 2 of 9 lines embedded, 7 reported" in first.stdout
    assert "line 8: the line is not valid UTF-8" in first.stdout
    output, manifest = tmp_path / "out" / "bad.jsonl.jsonl", tmp_path / "out" / "bad.jsonl.manifest.json"
    assert f"output:   {Path('out') / 'bad.jsonl.jsonl'}" in first.stdout
    assert f"manifest: {Path('out') / 'bad.jsonl.manifest.json'}" in first.stdout
    assert [row["id"] for row in rows(output)] == [1, 6]
    assert json.loads(manifest.read_text())["counts"]["lines"] == 9
    # When it runs again on the same file and configuration
    before = output.read_bytes()
    again = ingest("bad.jsonl", "--out", "out", cwd=tmp_path)
    # Then nothing is embedded again and the output is unchanged
    assert again.returncode == 0
    assert "Already embedded" in again.stdout
    assert output.read_bytes() == before


def test_ingest_runs_chunks_in_order_with_options_and_a_sidecar(tmp_path: Path) -> None:
    # Given a seven-line text file and a sidecar asking for 512 dimensions
    (tmp_path / "notes.txt").write_text("".join(f"note number {i}\n" for i in range(1, 8)))
    (tmp_path / "notes.config.json").write_text(json.dumps({"dimensions": 512, "normalize": False}))
    # When it is ingested in chunks of two lines, with --dimensions overriding the sidecar
    result = ingest("notes.txt", "--out", "out", "--chunk-lines", "2", "--dimensions", "256", cwd=tmp_path)
    # Then the output is in input order, at the option's dimensions, with the sidecar's normalize
    assert result.returncode == 0, result.stderr
    output = rows(tmp_path / "out" / "notes.txt.jsonl")
    assert [row["id"] for row in output] == list(range(1, 8))
    assert {row["dimensions"] for row in output} == {256}
    manifest = json.loads((tmp_path / "out" / "notes.txt.manifest.json").read_text())
    assert manifest["counts"]["chunks"] == 4
    assert manifest["config"]["normalize"] is False
    assert manifest["config_sources"] == {
        "model": "default",
        "dimensions": "metadata",
        "normalize": "sidecar",
        "input_type": "default",
        "embedding_type": "default",
    }


def test_ingest_rejects_an_invalid_configuration_with_the_allowed_values(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "docs.csv", tmp_path)
    result = ingest("docs.csv", "--out", "out", "--dimensions", "384", cwd=tmp_path)
    assert result.returncode == 1
    assert "rejected: 0 of 2 lines embedded, 2 reported" in result.stdout
    assert "allowed values: 256, 512, 1024" in result.stdout


def test_ingest_help_explains_every_option(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "embedrock_local.cli", "ingest", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for option in (
        "--out",
        "--model",
        "--dimensions",
        "--normalize",
        "--bedrock",
        "--chunk-lines",
        "sidecar",
    ):
        assert option in result.stdout


def test_a_damaged_output_is_rebuilt_and_the_work_area_pruned(tmp_path: Path) -> None:
    # Given a file embedded once, its work area pruned, and a temporary left by a killed writer
    shutil.copy(FIXTURES / "docs.jsonl", tmp_path)
    assert ingest("docs.jsonl", "--out", "out", cwd=tmp_path).returncode == 0
    output = tmp_path / "out" / "docs.jsonl.jsonl"
    good = output.read_bytes()
    work = tmp_path / "out" / ".embedrock-work"
    (run,) = work.iterdir()
    assert sorted(str(p.relative_to(run)) for p in run.rglob("*") if p.is_file()) == [
        "plan.json",
        "pruned.json",
        "results/000000.json",
    ]
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / "out" / f".docs.jsonl.jsonl.x7y8.tmp-{dead.pid}"
    stale.write_bytes(b"half")
    # When the output is truncated and the command runs again
    output.write_bytes(good[:10])
    again = ingest("docs.jsonl", "--out", "out", cwd=tmp_path)
    # Then it is rebuilt, not trusted, and the stale temporary is gone
    assert again.returncode == 0, again.stderr
    assert "Already embedded" not in again.stdout
    assert "the published output was 10 bytes" in again.stdout and "rebuilt" in again.stdout
    assert output.read_bytes() == good
    assert not stale.exists()
