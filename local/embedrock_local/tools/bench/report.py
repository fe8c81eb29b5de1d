"""report.json (every measured figure) and report.md (tables to paste into a decision document)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from embedrock import catalog, inference_profiles

# Published figures to read ours against (sources in shared/data/README.md). None are ours.
REFERENCES: list[dict[str, str]] = [
    {
        "what": "all-MiniLM-L6-v2, STS-B test, cosine Spearman x100",
        "score": "82.03",
        "source": "MTEB results, sentence-transformers__all-MiniLM-L6-v2 STSBenchmark.json "
        "(github.com/embeddings-benchmark/results)",
    },
    {
        "what": "Titan Text Embeddings V2 at 512 / 256 dims vs 1024",
        "score": "~99 % / ~97 % of the 1024-dim accuracy",
        "source": "AWS News Blog, Amazon Titan Text Embeddings V2 (no per-data-set score is published)",
    },
    {
        "what": "Cohere embed-english-v3.0 (1024), BEIR SciFact nDCG@10",
        "score": "71.8",
        "source": "cohere-ai/notebooks public_embedding_benchmarks/beir.md",
    },
    {
        "what": "Cohere embed-english-v3.0, MTEB STS average (10 sets incl. STS-B)",
        "score": "82.6",
        "source": "cohere-ai/notebooks public_embedding_benchmarks/mteb.md",
    },
    {
        # Cohere's API (model embed-v4.0, 1536 dims), not Bedrock. Mean of the main score (nDCG@10)
        # of the 29 retrieval tasks published for all three types, computed from the result files of
        # embeddings-benchmark/results at f4cc6c8 (2026-08-20); MTEB has no SciFact or STS-B file for it.
        "what": "Cohere Embed v4 (1536), mean nDCG@10 of 29 MTEB retrieval tasks: float / int8 / binary",
        "score": "71.60 / 71.66 (100.1 %) / 68.99 (96.4 %)",
        "source": "MTEB results, Cohere__Cohere-embed-v4.0 and its (output_dtype=int8), (output_dtype=binary) "
        "folders (github.com/embeddings-benchmark/results)",
    },
    {
        "what": "BM25, BEIR SciFact nDCG@10",
        "score": "66.5 (BEIR paper); 66.47 multifield / 67.89 flat (Anserini)",
        "source": "Thakur et al. 2021, arXiv:2104.08663; castorini/anserini BEIR regressions",
    },
    {
        # The scoring the emulator's full-text search uses (bm25s, Lucene BM25, Snowball English
        # stemmer, bm25s' English stopwords, title + " " + text): what `--search-mode text` reproduces.
        "what": "BM25 (bm25s, Lucene variant, k1 = 1.2, b = 0.75, stemmed, English stopwords), BEIR SciFact nDCG@10",
        "score": "68.0",
        "source": "xhluca/bm25-benchmarks README, NDCG@10 table, row k1 1.2 / b 0.75 / Lucene, column SF",
    },
]


def write_json(
    path: Path, meta: dict[str, Any], rows: Sequence[dict[str, Any]], errors: Sequence[dict[str, Any]]
) -> None:
    document = {**meta, "results": list(rows), "errors": list(errors), "references": REFERENCES}
    # NaN is not JSON: figures that could not be measured are null.
    path.write_text(json.dumps(_nulls(document), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_markdown(
    path: Path, meta: dict[str, Any], rows: Sequence[dict[str, Any]], errors: Sequence[dict[str, Any]]
) -> None:
    path.write_text(markdown(meta, rows, errors), encoding="utf-8")


def markdown(meta: dict[str, Any], rows: Sequence[dict[str, Any]], errors: Sequence[dict[str, Any]]) -> str:
    lines = [
        "# Embedrock benchmark",
        "",
        f"- Vectors from: **{meta['target_description']}**",
        f"- Run: {meta['generated_at']}; limit: {meta['limit'] or 'none (full data sets)'}; "
        f"{meta['batch_size']} texts per request, at most {meta['concurrency']} Bedrock calls in flight",
        "- Data sets: " + ", ".join(f"{d['name']} ({_describe(d)})" for d in meta["datasets"]),
    ]
    lines += [f"- {note}" for note in meta.get("notes", [])]
    lines += ["", "## Summary", "", *summary_table(rows)]
    for dataset in meta["datasets"]:
        subset = [row for row in rows if row["dataset"] == dataset["name"]]
        if subset:
            lines += ["", f"## {dataset['name']}: {_describe(dataset)}", "", *dataset_table(subset)]
            lines += _cut_note(subset)
    side_by_side = collections_table(rows)
    if side_by_side:
        lines += [
            "",
            "## In memory and via collections",
            "",
            "nDCG@10 of the same engine, model and dimensions: ranked in memory, and through a collection "
            "filled and searched over the collections API (vector: the embedded query; text: BM25 on the "
            "stored text; hybrid: both fused by reciprocal rank). Difference = collections vector - in memory.",
            "",
            *side_by_side,
        ]
    if errors:
        lines += [
            "",
            "## Not measured",
            "",
            "| model | dims | type | data set | error |",
            "| --- | ---: | --- | --- | --- |",
        ]
        lines += [
            f"| {e['model']} | {e['dimensions']} | {e['embedding_type']} | {e['dataset']} | {e['status']} {e['message']} |"
            for e in errors
        ]
    lines += [
        "",
        "## Published reference points (not measured here)",
        "",
        "| what | score | source |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {r['what']} | {r['score']} | {r['source']} |" for r in REFERENCES]
    lines += [
        "",
        'Scores are x100 (Spearman for STS, nDCG@10 and recall@10 for retrieval). "% of full" compares each '
        "variant with the same model's full-size float vectors on the same data. Latency is per request through "
        "the product's client layer (BedrockEmbedder, with its fan-out). Cost uses the catalog's on-demand prices; "
        "storage assumes float32, one byte per int8 number and one bit per binary dimension.",
        "",
    ]
    return "\n".join(lines)


def summary_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    """One line per variant, a score column per data set: the table for a decision document."""
    datasets = list(dict.fromkeys(row["dataset"] for row in rows))
    variants: dict[tuple[Any, ...], dict[str, dict[str, Any]]] = {}
    for row in rows:
        key = (row["model"], row["dimensions"], row["embedding_type"], row["variant"])
        variants.setdefault(key, {})[row["dataset"]] = row
    header = ["model", "dims", "type", "variant"]
    for name in datasets:
        metric = next(row["metric"] for row in rows if row["dataset"] == name)
        header += [f"{name} {metric}", "% of full"]
    header += ["$ per 1M tokens", "bytes/vector", "MB per 1M vectors"]
    lines = _table_head(header, numeric_from=1)
    for (model_id, dimensions, kind, variant), by_dataset in variants.items():
        # A row is reported under the id the user gave: a model's, or an inference profile's.
        model = catalog.find(inference_profiles.parse(model_id).model_id)
        cells = [model_id, str(dimensions), kind, variant]
        for name in datasets:
            found = by_dataset.get(name)
            cells += (
                [_fixed(found["score"], 2), _fixed(found["relative_to_full_float_pct"], 1)]
                if found
                else ["", ""]
            )
        any_row = next(iter(by_dataset.values()))
        price = model.price_per_million_tokens if model else math.nan
        cells += [
            price_text(price),
            f"{any_row['bytes_per_vector']:,}",
            f"{any_row['storage_per_million_vectors_mb']:,.0f}",
        ]
        lines.append(_line(cells))
    return lines


def collections_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    """One line per (data set, model, dimensions) measured via collections: nDCG@10 in memory,
    through the collection in each search mode, and the difference of vector mode from memory."""
    measured = [row for row in rows if row.get("via") == "collections"]
    if not measured:
        return []
    modes = list(dict.fromkeys(row["search_mode"] for row in measured))
    header = ["data set", "model", "dims", "in memory", *(f"collections {mode}" for mode in modes)]
    if "vector" in modes:
        header.append("difference")
    header += ["search p50 ms", "upserted", "PutVectors calls", "upsert s"]
    lines = _table_head(header, numeric_from=2)
    keys = dict.fromkeys((row["dataset"], row["model"], row["dimensions"]) for row in measured)
    for dataset, model_id, dimensions in keys:
        same = [
            r for r in rows if (r["dataset"], r["model"], r["dimensions"]) == (dataset, model_id, dimensions)
        ]
        memory = next(
            r
            for r in same
            if r["via"] == "memory" and r["variant"] == "native" and r["embedding_type"] == "float"
        )
        by_mode = {r["search_mode"]: r for r in same if r.get("via") == "collections"}
        cells = [dataset, model_id, str(dimensions), _fixed(memory["score"], 2)]
        cells += [_fixed(by_mode[mode]["score"], 2) if mode in by_mode else "" for mode in modes]
        if "vector" in modes:
            cells.append(
                _signed(by_mode["vector"]["difference_from_in_memory"]) if "vector" in by_mode else ""
            )
        any_row = next(iter(by_mode.values()))
        p50 = [_fixed(by_mode[mode]["latency_p50_ms"], 1) for mode in modes if mode in by_mode]
        cells += [
            " / ".join(p50),
            f"{any_row['documents_upserted']:,}",
            f"{any_row['put_vectors_calls']:,}",
            _fixed(any_row["upsert_seconds"], 1),
        ]
        lines.append(_line(cells))
    return lines


def dataset_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    metric_names = list(rows[0]["metrics"])
    header = ["model", "dims", "type", "variant", *metric_names, "% of full", "p50 ms", "p95 ms", "p99 ms"]
    header += ["texts/s", "input tokens", "cost $", "$ per 1M texts", "bytes/vector"]
    lines = _table_head(header, numeric_from=1)
    for row in rows:
        # A truncated variant shows the requests of the full-size vectors it was cut from.
        cells = [row["model"], str(row["dimensions"]), row["embedding_type"], row["variant"]]
        cells += [_fixed(row["metrics"][name], 2) for name in metric_names]
        cells.append(_fixed(row["relative_to_full_float_pct"], 1))
        cells += [_fixed(row[f"latency_{p}_ms"], 1) for p in ("p50", "p95", "p99")]
        cells += [_fixed(row["throughput_texts_per_s"], 0), f"{row['input_tokens']:,}"]
        cells += [f"{row['cost_usd']:.6f}", _fixed(row["cost_per_million_texts_usd"], 2)]
        cells.append(f"{row['bytes_per_vector']:,}")
        lines.append(_line(cells))
    return lines


def _cut_note(rows: Sequence[dict[str, Any]]) -> list[str]:
    cut = {
        row["model"]: (row["texts_cut_to_model_limit"], row["texts"])
        for row in rows
        if row["texts_cut_to_model_limit"]
    }
    if not cut:
        return []
    counts = "; ".join(f"{model}: {n:,} of {total:,}" for model, (n, total) in cut.items())
    return ["", f"Texts cut to the model's input limit before sending (as a caller must): {counts}."]


def _describe(dataset: dict[str, Any]) -> str:
    if dataset["kind"] == "sts":
        return f"STS, {dataset['pairs']:,} pairs, {dataset['texts']:,} distinct sentences"
    return f"retrieval, {dataset['queries']:,} queries over {dataset['documents']:,} documents"


def _table_head(header: list[str], numeric_from: int) -> list[str]:
    align = [
        "---" if i < numeric_from or name in ("type", "variant") else "---:" for i, name in enumerate(header)
    ]
    return [_line(header), _line(align)]


def _line(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def price_text(price: float) -> str:
    """A catalog price with every digit it has, and at least two (0.02, 0.10, 0.135)."""
    if not math.isfinite(price):
        return "n/a"
    exponent = Decimal(repr(price)).normalize().as_tuple().exponent
    digits = max(2, -exponent) if isinstance(exponent, int) else 2
    return f"{price:,.{digits}f}"


def _fixed(value: float | None, digits: int) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:,.{digits}f}"


def _signed(value: float) -> str:
    return f"{value:+.2f}" if math.isfinite(value) else "n/a"


def _nulls(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _nulls(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nulls(item) for item in value]
    return value
