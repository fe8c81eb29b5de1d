"""`embedrock bench --model PROFILE_ID`: a model Bedrock serves through inference profiles only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from embedrock.bedrock.embedder import BedrockEmbedder
from embedrock_local import cli
from embedrock_local.runtime.emulator import EmulatorOptions, InProcessEmulator
from embedrock_local.tools.bench import command, datasets
from embedrock_local.tools.bench.cache import VectorCache
from embedrock_local.tools.bench.runner import Runner
from embedrock_local.tools.bench.target import Target

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bench"
V4, V4_PROFILE = "cohere.embed-v4:0", "us.cohere.embed-v4:0"


def no_progress(label: str, total: int):
    return lambda n: None


@pytest.fixture
def profile_only_target() -> Iterator[Target]:
    """Cohere v4 offered through inference profiles only, as in most regions: its own id gets a 400."""
    emulator = InProcessEmulator(EmulatorOptions(profile_only=[V4]))
    embedder = BedrockEmbedder(emulator.runtime_client(), max_concurrency=2)
    yield Target(embedder, emulator.control_client(), "emulator/hash", "emulator, NOT Amazon Bedrock", None)
    emulator.close()


def run(target: Target, tmp_path: Path, model: str) -> tuple[Runner, list[dict[str, Any]]]:
    plan = command._plan(
        cli.build_parser().parse_args(["bench", "--model", model, "--embedding-types", "float"])
    )
    sts = datasets.load("sts", FIXTURES / "sts.tsv")
    cache = VectorCache(tmp_path / "vectors.sqlite", target.label)
    try:
        runner = Runner(target, cache, plan, no_progress)
        rows, _ = runner.run([sts])
    finally:
        cache.close()
    return runner, rows


def test_a_profile_id_is_planned_for_its_catalog_model():
    plan = command._plan(cli.build_parser().parse_args(["bench", "--model", f"{V4_PROFILE}@256,1024"]))
    (model_plan,) = plan.models
    assert (model_plan.model.id, model_plan.model_id, model_plan.dimensions) == (V4, V4_PROFILE, (256, 1024))
    assert {row[0] for row in plan.matrix()} == {V4_PROFILE}


def test_a_profile_id_with_a_dimension_the_model_lacks_names_the_allowed_ones(capsys):
    assert cli.main(["bench", "--model", f"{V4_PROFILE}@300", "--out", "/nonexistent/never-written"]) == 2
    assert "allowed values: 256, 512, 1024, 1536" in capsys.readouterr().err


def test_an_unknown_profile_id_is_refused_naming_the_profile_form(capsys):
    assert cli.main(["bench", "--model", "us.openai.ada", "--out", "/nonexistent/never-written"]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'us.openai.ada'" in err and "us.<model id>" in err


def test_a_profile_only_model_is_measured_through_its_profile_and_reported_under_it(
    profile_only_target, tmp_path
):
    # When the bench runs v4 by the profile id the user gave
    runner, rows = run(profile_only_target, tmp_path, f"{V4_PROFILE}@256")

    # Then every request went through the profile, and the rows carry the id given
    assert runner.errors == []
    assert rows and {row["model"] for row in rows} == {V4_PROFILE}
    assert all(row["input_tokens"] > 0 and row["cost_usd"] > 0 for row in rows)


def test_the_same_model_by_its_own_id_is_refused_by_a_profile_only_endpoint(profile_only_target, tmp_path):
    # The emulator's profile_only option is live: the model's own id cannot be measured there
    runner, rows = run(profile_only_target, tmp_path, f"{V4}@256")
    (error,) = runner.errors
    assert (error["model"], error["status"]) == (V4, 400)
    assert rows == []
