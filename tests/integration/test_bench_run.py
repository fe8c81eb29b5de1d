"""`embedrock bench` end to end against the in-process emulator: reports, cache reuse, seed replay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embedrock_local import cli
from embedrock_local.tools.bench import datasets
from embedrock_local.tools.bench.cache import VectorCache
from embedrock_local.tools.bench.runner import ModelPlan, Plan, Runner
from embedrock_local.tools.bench.seed import replay
from embedrock_local.tools.bench.target import default_engine, open_target

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bench"
REQUIRED = {
    "model",
    "dimensions",
    "embedding_type",
    "dataset",
    "metric",
    "score",
    "latency_p50_ms",
    "latency_p95_ms",
    "input_tokens",
    "cost_usd",
    "bytes_per_vector",
}


def no_progress(label: str, total: int):
    return lambda n: None


def bench(out: Path, *extra: str) -> dict:
    argv = ["bench", "--engine", "hash", "--out", str(out), *extra]
    assert cli.main(argv) == 0
    report: dict = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return report


# Fewer rows than the default matrix (tests/unit/local/test_bench_command.py checks that one): a
# compressed type, a native lower dimension and the client-side cuts keep every kind of row.
SMALL_RUN = (
    "--limit",
    "3",
    "--model",
    "amazon.titan-embed-text-v2:0@256,1024",
    "--model",
    "cohere.embed-v4:0@256,1536",
    "--model",
    "amazon.nova-2-multimodal-embeddings-v1:0@256",
)


def test_limited_run_on_the_shared_data_writes_every_report_and_reuses_its_cache(tmp_path, capsys):
    first = bench(tmp_path, *SMALL_RUN)
    for name in (
        "report.json",
        "report.md",
        "quality_vs_dimensions.png",
        "quality_vs_cost.png",
        "latency.png",
    ):
        assert (tmp_path / name).stat().st_size > 0, name
    rows = first["results"]
    # Per data set: Titan V2 2 dims x (float, binary) + 2 cuts; Cohere v4 2 dims x (float, int8, binary)
    # + 2 cuts; Nova 256 float (Nova has no int8 or binary, and nothing to cut from).
    assert len(rows) == 2 * (4 + 2 + 6 + 2 + 1)
    assert {(row["model"], row["embedding_type"]) for row in rows if "nova" in row["model"]} == {
        ("amazon.nova-2-multimodal-embeddings-v1:0", "float")
    }
    assert all(set(row) >= REQUIRED for row in rows)
    assert {row["dataset"] for row in rows} == {"stsb", "scifact"}
    assert {row["metric"] for row in rows} == {"spearman", "ndcg@10"}
    assert first["requests_made"] > 0 and first["errors"] == []
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "engine hash" in markdown and "NOT Amazon Bedrock" in markdown
    assert "| amazon.titan-embed-text-v2:0 | 256 | float | truncated from 1024 |" in markdown

    second = bench(tmp_path, *SMALL_RUN)
    assert second["requests_made"] == 0
    # Cached vectors give the same figures (floats within rounding, counts exactly).
    assert [r["input_tokens"] for r in second["results"]] == [r["input_tokens"] for r in rows]
    for field in ("score", "latency_p50_ms"):
        assert [r[field] for r in second["results"]] == pytest.approx([r[field] for r in rows], rel=1e-9)
    assert "0 requests made by this run" in capsys.readouterr().out


def test_a_second_run_makes_no_model_call_and_an_interrupted_one_resumes(tmp_path):
    sts = datasets.load("sts", FIXTURES / "sts.tsv")
    retrieval = datasets.load("retrieval", FIXTURES / "retrieval")
    plan = Plan(
        (ModelPlan(_model("cohere.embed-english-v3"), (1024,)),), ("float", "int8"), (256,), batch_size=4
    )
    with open_target("emulator", "hash", 4) as target:
        stats = target.emulator.stats
        cache = VectorCache(tmp_path / "vectors.sqlite", target.label)
        # Interrupted: only the STS set was embedded.
        Runner(target, cache, plan, no_progress).run([sts])
        after_sts = stats.calls()
        rows, _ = Runner(target, cache, plan, no_progress).run([sts, retrieval])
        resumed = stats.calls() - after_sts
        # 8 documents + 3 queries in calls of at most 4 texts, for float and int8: no STS text again.
        assert resumed == 2 * (2 + 1)
        again, _ = Runner(target, cache, plan, no_progress).run([sts, retrieval])
        assert stats.calls() == after_sts + resumed
        cache.close()
    assert [row["score"] for row in again] == pytest.approx([row["score"] for row in rows], rel=1e-9)
    retrieval_rows = [row for row in rows if row["dataset"] == "retrieval"]
    assert {row["metric"] for row in retrieval_rows} == {"ndcg@10"}
    assert all(set(row["metrics"]) == {"ndcg@10", "recall@10"} for row in retrieval_rows)


def test_a_user_sts_file_with_a_text_over_the_model_limit(tmp_path):
    long_text = "word " * 3000  # 15,000 characters: over Cohere v3's 2,048, so cut to fit before sending
    sts = tmp_path / "mine.tsv"
    sts.write_text("score\tsentence1\tsentence2\n1.0\ta b\tc d\n2.0\t" + long_text + "\te f\n3.0\tg h\ti j\n")
    report = bench(
        tmp_path / "out",
        "--dataset",
        str(sts),
        "--model",
        "cohere.embed-english-v3",
        "--embedding-types",
        "float",
        "--truncate",
        "none",
    )
    (row,) = report["results"]
    assert row["dataset"] == "mine" and row["texts_cut_to_model_limit"] == 1


def test_a_model_without_access_is_reported_and_the_others_still_measured(tmp_path):
    sts = datasets.load("sts", FIXTURES / "sts.tsv")
    models = (
        ModelPlan(_model("cohere.embed-english-v3"), (1024,)),
        ModelPlan(_model("amazon.titan-embed-text-v1"), (1536,)),
    )
    with open_target("emulator", "hash", 4) as target:
        target.emulator.faults.add("access_denied", model="cohere.*")
        runner = Runner(
            target,
            VectorCache(tmp_path / "v.sqlite", target.label),
            Plan(models, ("float",), (), 8),
            no_progress,
        )
        rows, _ = runner.run([sts])
    assert [row["model"] for row in rows] == ["amazon.titan-embed-text-v1"]
    (error,) = runner.errors
    assert (error["model"], error["status"]) == ("cohere.embed-english-v3", 403)
    assert "aws-marketplace:Subscribe" in error["message"]


def test_seed_replay_lists_models_and_embeds_at_every_titan_v2_dimension():
    lines: list[str] = []
    with open_target("emulator", "hash", 4) as target:
        result = replay(target, lines.append)
    assert "amazon.titan-embed-text-v2:0" in result["models"]
    assert all("embed" in model for model in result["models"])
    # Every profile listed routes to one of the listed models (the emulator may list none).
    assert all(any(model in profile for model in result["models"]) for profile in result["profiles"])
    assert any(line.startswith("\nInference profiles") for line in lines)
    assert set(result["norms"]) == {256, 512, 1024}
    assert all(abs(norm - 1) < 1e-6 for norm in result["norms"].values())
    assert len(result["cosines"]) == 2
    assert any("NOT Amazon Bedrock" in line for line in lines)


@pytest.mark.xdist_group("minilm")
@pytest.mark.skipif(
    default_engine() != "minilm",
    reason="minilm packages not installed (requirements-bench.txt)",
)
def test_minilm_reproduces_the_published_stsb_score_through_the_service(tmp_path, shared_data):
    """all-MiniLM-L6-v2 on the STS-B test split: 82.03 Spearman x100 published (MTEB results).

    Runs the whole path: the bench command, the client layer, the emulator's Titan V2 codec and
    the minilm engine, for 2,552 distinct sentences (about a minute on 2 cores).
    """
    argv = ["--engine", "minilm", "--dataset", "stsb", "--model", "amazon.titan-embed-text-v2:0@1024"]
    argv += ["--embedding-types", "float", "--truncate", "none", "--no-download"]
    assert cli.main(["bench", *argv, "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    (row,) = report["results"]
    assert row["texts"] == 2552  # distinct sentences of the 1,379 pairs
    assert row["score"] == pytest.approx(82.03, abs=1.0)


def _model(model_id: str):
    from embedrock import catalog

    found = catalog.find(model_id)
    assert found is not None
    return found
