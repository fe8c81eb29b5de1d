"""`embedrock bench` options, plan errors, the cost gate for real Bedrock, and the report writers."""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from embedrock import catalog
from embedrock.embed_spec import resolve_spec
from embedrock_local import cli
from embedrock_local.tools.bench import command, report

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bench"


def bench_parser() -> argparse.ArgumentParser:
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return subparsers.choices["bench"]


def test_every_bench_option_is_explained():
    parser = bench_parser()
    seed = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["seed"]
    for each in (parser, seed):
        for action in each._actions:
            assert action.help, f"{action.option_strings or action.dest} has no help"


def test_building_the_bench_parser_imports_nothing_heavy():
    code = (
        "import sys, argparse; from embedrock_local.tools.bench import command; "
        "command.add_parser(argparse.ArgumentParser().add_subparsers()); "
        "heavy = {'numpy', 'boto3', 'matplotlib', 'tqdm', 'tokenizers'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def parse(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(["bench", *argv])


TITAN_V2, TITAN_V1, COHERE_V3 = (
    "amazon.titan-embed-text-v2:0",
    "amazon.titan-embed-text-v1",
    "cohere.embed-english-v3",
)
COHERE_V4, NOVA = "cohere.embed-v4:0", "amazon.nova-2-multimodal-embeddings-v1:0"
# Written out rather than derived from the catalog, so a catalog change that alters the default run shows here.
DEFAULT_MATRIX = [
    *[(TITAN_V2, d, kind) for d in (256, 512, 1024) for kind in ("float", "binary")],  # no int8
    (TITAN_V1, 1536, "float"),
    *[(COHERE_V3, 1024, kind) for kind in ("float", "int8", "binary")],
    *[(COHERE_V4, d, kind) for d in (256, 512, 1024, 1536) for kind in ("float", "int8", "binary")],
    *[(NOVA, d, "float") for d in (256, 384, 1024, 3072)],  # float vectors only
]


def test_default_matrix_is_today_s_rows_plus_cohere_v4_and_nova():
    plan = command._plan(parse())
    assert plan.matrix() == DEFAULT_MATRIX
    assert plan.embedding_types == ("float", "int8", "binary")
    assert plan.truncate == (256, 512)


def test_every_default_row_is_one_the_catalog_allows():
    for model_id, dimensions, kind in command._plan(parse()).matrix():
        model = catalog.find(model_id)
        assert model is not None, model_id
        assert dimensions in model.dimensions and kind in model.embedding_types, (model_id, dimensions, kind)
        # As the runner asks: with an input type where the model takes one.
        for input_type in ("clustering", "search_query", "search_document") if model.input_types else (None,):
            spec = resolve_spec(
                model_id=model_id, dimensions=dimensions, input_type=input_type, embedding_type=kind
            )
            assert (spec.dimensions, spec.embedding_type) == (dimensions, kind)


def test_help_names_the_default_models():
    (model_option,) = [a for a in bench_parser()._actions if "--model" in a.option_strings]
    for model_id in dict.fromkeys(row[0] for row in DEFAULT_MATRIX):
        assert model_id in str(model_option.help)


def test_real_bedrock_without_a_region_is_one_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    argv = ["bench", "--bedrock", "aws", "--dataset", str(FIXTURES / "sts.tsv"), "--out", str(tmp_path)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "embedrock bench: Amazon Bedrock: You must specify a region. Set AWS_DEFAULT_REGION" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "amazon.titan-embed-text-v2:0@384"], "allowed values: 256, 512, 1024"),
        (["--model", "openai.ada"], "unknown model 'openai.ada'"),
        (["--embedding-types", "float,fp16"], "--embedding-types: use some of float, int8"),
        (
            ["--model", "amazon.titan-embed-text-v1", "--embedding-types", "int8,binary"],
            "--embedding-types: amazon.titan-embed-text-v1 offers float; ask for one of them too.",
        ),
        (["--limit", "1"], "--limit at least 2"),
        (["--search-mode", "text"], "--search-mode needs --via collections"),
        (
            ["--via", "collections", "--search-mode", "vector,bm25"],
            "--search-mode: use some of vector, text, hybrid",
        ),
        (["--via", "collections", "--bedrock", "aws"], "use it with --bedrock emulator"),
    ],
)
def test_bad_plans_are_refused_with_the_allowed_values(argv, message, capsys):
    assert cli.main(["bench", *argv, "--out", "/nonexistent/never-written"]) == 2
    assert message in capsys.readouterr().err


def test_real_bedrock_run_prints_its_cost_and_stops_without_yes(tmp_path, capsys):
    """Sockets are blocked here: nothing may be sent before --yes."""
    argv = ["bench", "--bedrock", "aws", "--dataset", str(FIXTURES / "sts.tsv"), "--out", str(tmp_path)]
    assert cli.main(argv) == 1
    captured = capsys.readouterr()
    # A few cents at most for six pairs over the default matrix, and the token count it rests on.
    assert re.search(
        r"Expected cost of this run on Amazon Bedrock: about \$0\.0\d{3} for about [\d,]+ input", captured.out
    )
    assert "Re-run with --yes" in captured.err
    assert not (tmp_path / "report.json").exists()


def test_seed_on_real_bedrock_needs_yes(capsys):
    assert cli.main(["bench", "seed", "--bedrock", "aws"]) == 1
    assert "add --yes" in capsys.readouterr().err


def test_missing_named_set_without_download_names_the_directory(tmp_path, capsys):
    argv = [
        "bench",
        "--dataset",
        "scifact",
        "--data-dir",
        str(tmp_path),
        "--no-download",
        "--out",
        str(tmp_path),
    ]
    assert cli.main(argv) == 2
    assert f"'scifact' is not in {tmp_path}" in capsys.readouterr().err


ROW = {
    "model": "amazon.titan-embed-text-v2:0",
    "model_name": "Titan Text Embeddings V2",
    "dimensions": 256,
    "embedding_type": "binary",
    "variant": "native",
    "dataset": "stsb",
    "task": "sts",
    "metric": "spearman",
    "score": 80.5,
    "metrics": {"spearman": 80.5},
    "relative_to_full_float_pct": math.nan,
    "latency_p50_ms": 12.0,
    "latency_p95_ms": 20.0,
    "latency_p99_ms": 25.0,
    "throughput_texts_per_s": 900.0,
    "requests": 3,
    "bedrock_calls": 70,
    "texts": 70,
    "texts_cut_to_model_limit": 0,
    "input_tokens": 1234,
    "cost_usd": 0.00002468,
    "cost_per_million_texts_usd": 0.35,
    "bytes_per_vector": 32,
    "storage_per_million_vectors_mb": 32.0,
    "target": "emulator/hash",
}
META = {
    "generated_at": "2026-01-01T00:00:00+00:00",
    "target": "emulator/hash",
    "target_description": "an emulator, NOT Amazon Bedrock",
    "limit": 35,
    "batch_size": 32,
    "concurrency": 16,
    "datasets": [{"name": "stsb", "kind": "sts", "pairs": 35, "texts": 70}],
    "requests_made": 3,
    "notes": ["a note"],
}


def test_report_json_has_the_required_fields_and_no_nan(tmp_path):
    report.write_json(tmp_path / "report.json", META, [ROW], [])
    document = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    (row,) = document["results"]
    required = {"model", "dimensions", "embedding_type", "dataset", "metric", "score", "latency_p50_ms"}
    required |= {"latency_p95_ms", "input_tokens", "cost_usd", "bytes_per_vector"}
    assert required <= set(row)
    assert row["relative_to_full_float_pct"] is None
    assert document["references"] and document["target"] == "emulator/hash"


def test_report_markdown_says_where_vectors_came_from_and_tabulates_rows():
    text = report.markdown(META, [ROW], [])
    assert "**an emulator, NOT Amazon Bedrock**" in text
    assert "- a note" in text
    assert "| amazon.titan-embed-text-v2:0 | 256 | binary | native | 80.50 | n/a |" in text
    assert "| 12.0 | 20.0 | 25.0 | 900 | 1,234 | 0.000025 | 0.35 | 32 |" in text
    assert "## Published reference points" in text


def test_bench_data_downloads_only_the_missing_named_sets(tmp_path, monkeypatch, capsys):
    # Given a data directory that already holds STS-B test, and a stand-in for the network
    from embedrock_local.tools.bench import datasets, sources

    (tmp_path / "stsb-test.tsv").write_text("score\tsentence1\tsentence2\n", encoding="utf-8")
    fetched: list[str] = []

    def fake_fetch(name: str, data_dir: Path, opener: object = None) -> Path:
        fetched.append(name)
        return data_dir / datasets.NAMED[name]

    monkeypatch.setattr(sources, "fetch", fake_fetch)

    # When `embedrock bench data` runs
    assert cli.main(["bench", "data", "--data-dir", str(tmp_path)]) == 0

    # Then only the missing sets are fetched, and it says where the tests will find them
    assert sorted(fetched) == ["scifact", "stsb-dev"]
    assert f"EMBEDROCK_DATA={tmp_path}" in capsys.readouterr().out


def test_bench_data_offline_fails_with_one_line_naming_the_folder(tmp_path, monkeypatch, capsys):
    from embedrock_local.tools.bench import sources

    def offline(url: str) -> bytes:
        raise OSError("network unreachable")

    monkeypatch.setattr(sources, "_download", offline)
    assert cli.main(["bench", "data", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "EMBEDROCK_DATA" in err and str(tmp_path) in err


def test_summary_prices_keep_every_digit_the_catalog_gives():
    # Given a row of each model, whose catalog prices have two or three decimals
    rows = [ROW | {"model": model.id, "dimensions": model.default_dimensions} for model in catalog.MODELS]

    # When the summary table is built
    lines = report.summary_table(rows)

    # Then each model's price column shows the catalog's figure exactly (Nova 0.135, not 0.14)
    for model in catalog.MODELS:
        (line,) = [line for line in lines if line.startswith(f"| {model.id} |")]
        # columns: ... | $ per 1M tokens | bytes/vector | MB per 1M vectors |
        assert float(line.split("|")[-4]) == model.price_per_million_tokens, line
    (nova,) = [line for line in lines if line.startswith("| amazon.nova-2-multimodal-embeddings-v1:0 |")]
    assert "| 0.135 |" in nova


@pytest.mark.parametrize(("price", "text"), [(0.02, "0.02"), (0.1, "0.10"), (0.135, "0.135"), (0.8, "0.80")])
def test_a_price_prints_with_the_digits_it_has(price, text):
    assert report.price_text(price) == text


def test_a_row_under_an_inference_profile_id_shows_its_model_s_price():
    row = ROW | {"model": "us.cohere.embed-v4:0", "dimensions": 256, "embedding_type": "float"}
    (line,) = [line for line in report.summary_table([row]) if line.startswith("| us.cohere.embed-v4:0 |")]
    assert "| 0.12 |" in line
