"""`embedrock ingest FILE --out DIR` as a user runs it: the pipeline against the Bedrock emulator."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from subprocess import PIPE

import numpy as np
import pytest

from embedrock_local.environment import emulator_environment
from embedrock_local.runtime.emulator import Emulator, EmulatorOptions
from embedrock_local.tools.ingest.command import usd
from tests.conftest import ROOT
from tests.fixtures.images import data_uri, png

pytestmark = pytest.mark.integration

FIXTURES = ROOT / "tests" / "fixtures" / "ingest"


INGEST = [sys.executable, "-m", "embedrock_local.cli", "ingest", "--no-progress"]


# A suite started as a shell's background job inherits SIGINT ignored, and exec keeps that: undo it,
# as a terminal's Ctrl-C would find it.
CTRL_C_ENABLED = [
    sys.executable,
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])",
]


def ingest(*arguments: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [*INGEST, *map(str, arguments)]
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
        "truncate": "default",
        "collection": "default",
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
        "--truncate",
        "inference profile",
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
    before, after = ([json.loads(line) for line in raw.splitlines()] for raw in (good, output.read_bytes()))
    assert [row["id"] for row in after] == [row["id"] for row in before]
    for old, new in zip(before, after, strict=True):
        np.testing.assert_allclose(new["embedding"], old["embedding"], rtol=1e-6)
    assert not stale.exists()


LINES = 600


def test_ctrl_c_keeps_what_was_paid_for_and_the_rerun_pays_only_for_the_rest(tmp_path: Path) -> None:
    # Given a 600-line file and a Bedrock emulator answering each call in 20 ms
    (tmp_path / "big.txt").write_text("".join(f"line number {i}\n" for i in range(1, LINES + 1)))
    with Emulator(EmulatorOptions(latency_ms=20)) as emulator:
        environment = {
            **os.environ,
            **emulator.env(),
            "AWS_ACCESS_KEY_ID": "embedrock-test",
            "AWS_SECRET_ACCESS_KEY": "embedrock-test",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        command = [
            *INGEST, "big.txt", "--out", "out", "--bedrock", "aws", "--chunk-lines", "100", "--concurrency", "4"
        ]  # fmt: skip
        # When `embedrock ingest` gets SIGINT in the middle of its second chunk
        process = subprocess.Popen(
            [*CTRL_C_ENABLED, *command], cwd=tmp_path, env=environment, stdout=PIPE, stderr=PIPE, text=True
        )
        deadline = time.monotonic() + 60
        while emulator.stats.calls() < 150 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        time.sleep(0.2)  # the emulator's last answers are counted
        first = emulator.stats.calls()
        # Then it exits 130 with one line (no traceback) reporting the calls it made and their cost
        assert process.returncode == 130, stderr
        assert stderr.strip().count("\n") == 0 and "Traceback" not in stderr, stderr
        assert f"interrupted after {first} Bedrock calls in this run" in stderr
        assert "estimated $" in stderr
        assert 150 <= first < LINES
        # When the same command runs again
        emulator.stats.reset()
        again = subprocess.run(
            command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120, check=False
        )
        assert again.returncode == 0, again.stderr
        # Then it paid only for the lines not embedded before: every line exactly once in all
        assert first + emulator.stats.calls() == LINES
    # And the manifest counts the calls made across both runs, and every line is in the output
    manifest = json.loads((tmp_path / "out" / "big.txt.manifest.json").read_text())
    assert manifest["counts"]["bedrock_calls"] == LINES
    assert manifest["counts"]["embedded"] == LINES
    assert [row["id"] for row in rows(tmp_path / "out" / "big.txt.jsonl")] == list(range(1, LINES + 1))


def test_ingest_embeds_image_lines_from_a_data_uri_and_an_s3_key_next_to_the_file(tmp_path: Path) -> None:
    # Given a JSONL file whose lines name an image inline, one next to it as an s3 key, and a missing one
    picture = png(4, 4, shade=60)
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "a.png").write_bytes(picture)
    lines = [
        {"id": "inline", "image": data_uri(picture)},
        {"id": "s3", "text": "a grey square", "image": "s3://photos/input/pics/a.png"},
        {"id": "gone", "image": "s3://photos/input/pics/gone.png"},
    ]
    (tmp_path / "pics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    # When `embedrock ingest` runs it with Titan Multimodal, the bucket named as in the lines
    model = "amazon.titan-embed-image-v1"
    done = ingest("pics.jsonl", "--out", "out", "--model", model, "--bucket", "photos", cwd=tmp_path)
    # Then the two readable images are embedded, the missing one is reported with its reason
    assert done.returncode == 0, done.stderr
    assert "complete: 2 of 3 lines embedded, 1 reported" in done.stdout
    assert 'line 3: "image" s3://photos/input/pics/gone.png does not exist (NoSuchKey)' in done.stdout
    out = rows(tmp_path / "out" / "pics.jsonl.jsonl")
    assert [(row["id"], row["image"]) for row in out] == [
        ("inline", data_uri(picture)),
        ("s3", "s3://photos/input/pics/a.png"),
    ]
    assert all(len(row["embedding"]) == 1024 for row in out)  # type: ignore[arg-type]
    # When the image next to the file is rewritten with other bytes, Then the same file runs again
    (tmp_path / "pics" / "a.png").write_bytes(png(4, 4, shade=61))
    again = ingest("pics.jsonl", "--out", "out", "--model", model, "--bucket", "photos", cwd=tmp_path)
    assert again.returncode == 0 and "Already embedded" not in again.stdout
    rerun = rows(tmp_path / "out" / "pics.jsonl.jsonl")
    np.testing.assert_allclose(rerun[0]["embedding"], out[0]["embedding"])  # type: ignore[arg-type]  # same bytes
    assert not np.allclose(rerun[1]["embedding"], out[1]["embedding"])  # type: ignore[arg-type]


COHERE_V4 = "cohere.embed-v4:0"
US_COHERE_V4 = f"us.{COHERE_V4}"


def test_ingest_through_a_profile_of_a_profile_only_model_embeds_and_prints_its_cost(tmp_path: Path) -> None:
    # Given a Bedrock emulator that offers Cohere v4 through inference profiles only
    (tmp_path / "one.jsonl").write_text(json.dumps({"id": "a", "text": "a cat on a mat"}) + "\n")
    with Emulator(EmulatorOptions(profile_only=[COHERE_V4])) as emulator:
        environment = {**os.environ, **emulator_environment(emulator.url)}

        def run(*arguments: str) -> subprocess.CompletedProcess[str]:
            command = [*INGEST, "one.jsonl", "--bedrock", "aws", *arguments]
            return subprocess.run(
                command,
                cwd=tmp_path,
                env=environment,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )

        # When `embedrock ingest` names the model by its own id, Then Bedrock's refusal is reported
        refused = run("--out", "own-id", "--model", COHERE_V4)
        assert "complete: 0 of 1 lines embedded, 1 reported" in refused.stdout, refused.stderr
        # When it names the US profile, with a truncate
        done = run("--out", "out", "--model", US_COHERE_V4, "--truncate", "RIGHT")
        # Then the line is embedded through the profile, and its cost is printed with its digits
        assert done.returncode == 0, done.stderr
        assert "complete: 1 of 1 lines embedded, 0 reported" in done.stdout
        assert emulator.stats.calls() == 2
    manifest = json.loads((tmp_path / "out" / "one.jsonl.manifest.json").read_text())
    assert (manifest["model"], manifest["invoke_model"]) == (COHERE_V4, US_COHERE_V4)
    assert (manifest["config"]["truncate"], manifest["config_sources"]["truncate"]) == ("RIGHT", "metadata")
    assert manifest["cost_usd"] > 0
    assert f"model {COHERE_V4} through {US_COHERE_V4} at 1536 dimensions" in done.stdout
    assert f"{usd(manifest['cost_usd'])} on Bedrock" in done.stdout and "$0.000000 " not in done.stdout


def test_ingest_rejects_a_truncate_the_model_does_not_take(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "docs.csv", tmp_path)
    result = ingest("docs.csv", "--out", "out", "--model", COHERE_V4, "--truncate", "END", cwd=tmp_path)
    assert result.returncode == 1
    assert "rejected: 0 of 2 lines embedded, 2 reported" in result.stdout
    assert (
        f"truncate 'END' is not allowed for {COHERE_V4}; allowed values: NONE, LEFT, RIGHT" in result.stdout
    )
