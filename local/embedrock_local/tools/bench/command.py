"""`embedrock bench`: which model, which dimension -- quality, latency, cost and size, measured.

Only argparse is imported at module level: `embedrock --help` builds this parser.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .datasets import Dataset, RetrievalDataset
    from .runner import AlsoMeasure, ModelPlan, Plan, Progress, Runner
    from .target import Target

# Ids without "@": every dimension the catalog allows. Each model is asked only the DEFAULT_TYPES
# its catalog entry offers (Plan.variants), so no combination Bedrock would refuse is requested.
DEFAULT_MODELS = (
    "amazon.titan-embed-text-v2:0",
    "amazon.titan-embed-text-v1",
    "cohere.embed-english-v3",
    "cohere.embed-v4:0",
    "amazon.nova-2-multimodal-embeddings-v1:0",
)
DEFAULT_DATASETS = ("stsb", "scifact")
DEFAULT_TYPES = "float,int8,binary"
DEFAULT_TRUNCATE = "256,512"
_EMULATOR_NOTES = [
    "Input tokens are the emulator's estimate (words and punctuation marks), not Bedrock's counts; costs "
    "follow them.",
    "Latencies are the emulator's on this machine, not Bedrock's: the first variant to send a text also "
    "pays the local engine's compute (minilm: a transformer forward pass); later variants reuse the "
    "engine's in-memory vectors, so theirs show the client layer's fan-out and the HTTP and JSON overhead.",
]

_COLLECTIONS_NOTES = [
    "Rows 'collections vector|text|hybrid' come from a collection filled through the collections API "
    "(documents sent as text, embedded by the service as search_document) and searched through it "
    "(queries embedded as search_query; top 100 asked, the first 10 scored); 'native' rows rank the same "
    "model's vectors in memory. Collections store float32 vectors only, so int8 and binary variants are "
    "not measured through them. Latency of those rows is per search request through the local gateway; "
    "their cost is what filling the collection cost.",
]


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except the None and False of options whose help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False):
            return action.help
        return super()._get_help_string(action)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    target = argparse.ArgumentParser(add_help=False)
    target.add_argument(
        "--bedrock",
        choices=("emulator", "aws"),
        default="emulator",
        help="emulator: an in-process Bedrock emulator (not Amazon Bedrock, no cost); "
        "aws: real Amazon Bedrock with your AWS credentials and region (billed; needs --yes)",
    )
    target.add_argument(
        "--engine",
        default=None,
        help="the emulator's engine: minilm (all-MiniLM-L6-v2, a real sentence encoder) or hash "
        "(deterministic, not semantic). Default: minilm when requirements-bench.txt is installed, else hash",
    )
    target.add_argument(
        "--concurrency",
        type=int,
        default=16,
        help="Bedrock calls in flight per request (the service's EMBEDROCK_MAX_CONCURRENCY); keep it under "
        "your account's requests-per-minute quota",
    )
    target.add_argument(
        "--yes", action="store_true", help="agree to spend money on Amazon Bedrock (--bedrock aws)"
    )

    parser = subparsers.add_parser(
        "bench",
        parents=[target],
        help="benchmark models and dimensions: quality, latency, cost, size (`embedrock bench --help`)",
        description=(
            "Measure, for each model x dimensions x embedding type, quality on STS (Spearman x100 of cosine vs "
            "gold scores) and retrieval (nDCG@10, recall@10), quality of compressed and truncated vectors "
            "relative to full-size floats, latency per request through the service's own client layer, input "
            "tokens, cost at catalog prices and storage size. Writes report.json, report.md and PNG plots to "
            "--out; vectors are cached so a re-run or a resumed run pays nothing twice. "
            "`embedrock bench seed` replays the seed notebook instead."
        ),
        formatter_class=_Help,
    )
    parser.add_argument(
        "--dataset",
        action="append",
        metavar="NAME|PATH",
        help="stsb (STS Benchmark test), stsb-dev, scifact (BEIR SciFact), an STS .tsv file "
        "(score<TAB>sentence1<TAB>sentence2 with that header) or a BEIR-style directory (corpus.jsonl, "
        f"queries.jsonl, qrels-test.tsv or qrels/test.tsv); repeat for several. Default: {' '.join(DEFAULT_DATASETS)}",
    )
    parser.add_argument(
        "--model",
        action="append",
        metavar="ID[@DIMS]",
        help="a catalog model id or an inference profile id of one (us.cohere.embed-v4:0), optionally with "
        "dimensions (amazon.titan-embed-text-v2:0@256,1024; without @: every dimension it allows); repeat for "
        f"several. Default: {' '.join(DEFAULT_MODELS)}",
    )
    parser.add_argument(
        "--embedding-types",
        default=DEFAULT_TYPES,
        help="embedding types to request from each model that offers them (float, int8, uint8, binary, ubinary)",
    )
    parser.add_argument(
        "--truncate",
        default=DEFAULT_TRUNCATE,
        help="also score each model's full-size float vectors cut on the client to these dimensions "
        "(no extra request); 'none' to skip",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="quick subset: the first N STS pairs, or the first N queries with their relevant documents plus "
        "10 others per query as the corpus (scores are then not comparable with published ones)",
    )
    parser.add_argument(
        "--via",
        choices=("memory", "collections"),
        default="memory",
        help="memory: retrieval sets ranked in memory from the vectors; collections: also upsert each "
        "retrieval corpus through the collections API of a local gateway + emulator (same engine) into a "
        "collection per model and dimensions, search it through the API and report both side by side "
        "(float vectors only: collections store float32; --bedrock emulator only)",
    )
    parser.add_argument(
        "--search-mode",
        default=None,
        metavar="MODES",
        help="with --via collections: the collections' search modes to measure, comma-separated, of "
        "vector (the embedded query), text (BM25 full-text on the stored text) and hybrid (both, fused "
        "by reciprocal rank). Default: vector,text,hybrid",
    )
    parser.add_argument("--batch-size", type=int, default=32, help="texts per request to the client layer")
    parser.add_argument(
        "--out", type=Path, default=Path("bench-out"), help="directory for the reports and plots"
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="where vectors are cached (default: OUT/cache)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where named data sets are read from and downloaded to (default: $EMBEDROCK_DATA, else "
        "~/.cache/embedrock/data)",
    )
    parser.add_argument(
        "--no-download",
        action="store_true",
        help="fail instead of downloading a named data set that is missing",
    )
    actions = parser.add_subparsers(
        dest="bench_action", metavar="{seed,data}", help="optional: run this instead of the benchmark"
    )
    actions.add_parser(
        "data",
        help="download the named data sets (stsb, stsb-dev, scifact) that are missing from the data "
        "directory (STS-B checked by sha256), and exit",
        description="Download the named data sets that are missing from --data-dir (default: $EMBEDROCK_DATA, "
        "else ~/.cache/embedrock/data) from their public homes, so the benchmark and the test suite can run "
        "offline. Sets already there are left untouched.",
        formatter_class=_Help,
    ).add_argument(
        "--data-dir",
        type=Path,
        # SUPPRESS: without it this parser's default would overwrite `bench --data-dir DIR data`.
        default=argparse.SUPPRESS,
        help="where to put them (default: $EMBEDROCK_DATA, else ~/.cache/embedrock/data)",
    )
    actions.add_parser(
        "seed",
        parents=[target],
        help="replay the seed notebook: list embedding models and their inference profiles, embed a sentence "
        "at each Titan V2 dimension, print norms and two sentence-pair cosines",
        description="Replay the seed notebook through the service's client layer: ListFoundationModels filtered "
        "on 'embed', the inference profiles that route to those models (ListInferenceProfiles; one line instead "
        "where the endpoint or your role lacks it), 'Python is a programming language' at each Titan Text V2 "
        "dimension (norms), and the cosines of two sentence pairs, next to what the notebook printed on Amazon "
        "Bedrock.",
        formatter_class=_Help,
    )


def run(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, NoRegionError

    from embedrock.errors import ApiError

    from .datasets import DatasetError
    from .target import default_engine, open_target

    engine = args.engine or default_engine()
    if args.bedrock == "aws" and args.bench_action == "seed" and not args.yes:
        print(
            "The seed replay on Amazon Bedrock makes 6 small billed calls; add --yes to run it.",
            file=sys.stderr,
        )
        return 1
    try:
        if args.bench_action == "data":
            return _fetch_data(args)
        if args.bench_action == "seed":
            from .seed import replay

            with open_target(args.bedrock, engine, args.concurrency) as target:
                replay(target)
            return 0
        plan = _plan(args)
        modes = _search_modes(args)
        datasets = _datasets(args)
        with (
            open_target(args.bedrock, engine, args.concurrency) as target,
            _collections(args, target, modes) as also,
        ):
            return _bench(args, plan, datasets, target, also)
    except (ValueError, DatasetError, ApiError, RuntimeError) as error:
        print(f"embedrock bench: {error}", file=sys.stderr)
        return 2
    except BotoCoreError as error:  # --bedrock aws without a region or credentials
        hint = (
            " Set AWS_DEFAULT_REGION, or AWS_PROFILE to a profile with a region."
            if isinstance(error, NoRegionError)
            else ""
        )
        print(f"embedrock bench: Amazon Bedrock: {error}{hint}", file=sys.stderr)
        return 2


def _plan(args: argparse.Namespace) -> Plan:
    from embedrock import catalog, inference_profiles
    from embedrock.embed_spec import resolve_model, resolve_spec
    from embedrock.errors import InvalidRequest

    from .runner import ModelPlan, Plan

    models: list[ModelPlan] = []
    for entry in args.model or DEFAULT_MODELS:
        model_id, _, dims = entry.partition("@")
        try:
            # A model id or an inference profile id (us.cohere.embed-v4:0), as every route takes.
            model = resolve_model(model_id)
        except InvalidRequest:
            raise ValueError(
                f"unknown model {model_id!r}; choose one of {', '.join(catalog.model_ids())}, or an "
                f"inference profile id of one of them ({inference_profiles.example_ids()})."
            ) from None
        dimensions = tuple(int(d) for d in dims.split(",")) if dims else model.dimensions
        for d in dimensions:
            resolve_spec(model_id=model_id, dimensions=d)  # raises naming the allowed values
        models.append(ModelPlan(model, dimensions, model_id))
    types = tuple(t.strip() for t in args.embedding_types.split(",") if t.strip())
    unknown = sorted(set(types) - set(catalog.EMBEDDING_TYPES))
    if unknown or not types:
        raise ValueError(f"--embedding-types: use some of {', '.join(catalog.EMBEDDING_TYPES)}.")
    truncate = (
        ()
        if args.truncate.strip().lower() in ("", "none")
        else tuple(int(d) for d in args.truncate.split(","))
    )
    if args.batch_size < 1 or (args.limit is not None and args.limit < 2):
        raise ValueError("--batch-size must be at least 1 and --limit at least 2.")
    plan = Plan(tuple(models), types, truncate, args.batch_size)
    for model_plan in plan.models:
        # A model none of whose types was asked for would vanish from the report unmentioned.
        if not plan.variants(model_plan):
            raise ValueError(
                f"--embedding-types: {model_plan.model_id} offers {', '.join(model_plan.model.embedding_types)}; "
                "ask for one of them too."
            )
    return plan


def _search_modes(args: argparse.Namespace) -> tuple[str, ...]:
    """The search modes to measure through collections: none unless --via collections."""
    from .via_collections import SEARCH_MODES

    if args.via != "collections":
        if args.search_mode is not None:
            raise ValueError("--search-mode needs --via collections (in memory, retrieval ranks by vector).")
        return ()
    if args.bedrock != "emulator":
        raise ValueError(
            "--via collections runs the local gateway and emulator; use it with --bedrock emulator."
        )
    chosen = tuple(m.strip() for m in (args.search_mode or ",".join(SEARCH_MODES)).split(",") if m.strip())
    unknown = sorted(set(chosen) - set(SEARCH_MODES))
    if unknown or not chosen:
        raise ValueError(f"--search-mode: use some of {', '.join(SEARCH_MODES)} (got {args.search_mode!r}).")
    return tuple(dict.fromkeys(chosen))


@contextlib.contextmanager
def _collections(
    args: argparse.Namespace, target: Target, modes: tuple[str, ...]
) -> Iterator[AlsoMeasure | None]:
    """With --via collections, the runner's extra measure: each float variant of a retrieval set
    also upserted into and searched through a local collection. Otherwise nothing."""
    if not modes:
        yield None
        return
    from . import via_collections

    print("Collections: starting the local gateway and emulator ...", file=sys.stderr, flush=True)
    assert target.emulator is not None  # _search_modes allows --via collections with the emulator only
    # The target's engine instance: both paths rank the same vectors, each text encoded once.
    with via_collections.local_api(target.emulator.engine, args.concurrency) as api:
        progress = _progress_bars()

        def also(
            dataset: RetrievalDataset, model: ModelPlan, dimensions: int, row: dict[str, Any]
        ) -> list[dict[str, Any]]:
            measured = via_collections.run(
                api,
                dataset,
                model_id=model.model_id,
                dimensions=dimensions,
                modes=modes,
                batch_size=args.batch_size,
                progress=progress,
            )
            return via_collections.rows(row, measured)

        yield also


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir or os.environ.get("EMBEDROCK_DATA") or Path.home() / ".cache/embedrock/data")


def _fetch_data(args: argparse.Namespace) -> int:
    from . import datasets, sources

    data_dir = _data_dir(args)
    for name, relative in datasets.NAMED.items():
        if (data_dir / relative).exists():
            print(f"{name}: already in {data_dir / relative}")
            continue
        print(f"{name}: downloading into {data_dir} ...", flush=True)
        sources.fetch(name, data_dir)
    print(f"Data sets ready in {data_dir}; the tests read them from there with EMBEDROCK_DATA={data_dir}")
    return 0


def _datasets(args: argparse.Namespace) -> list[Dataset]:
    from . import datasets, sources

    data_dir = _data_dir(args)
    loaded: list[Dataset] = []
    for entry in args.dataset or DEFAULT_DATASETS:
        name, path = datasets.resolve(entry, data_dir)
        if entry in datasets.NAMED and not path.exists():
            if args.no_download:
                raise datasets.DatasetError(
                    f"data set {entry!r} is not in {data_dir} (and --no-download is set)."
                )
            print(f"Downloading {entry} into {data_dir} ...", file=sys.stderr, flush=True)
            path = sources.fetch(entry, data_dir)
        loaded.append(datasets.load(name, path, args.limit))
    return loaded


def _bench(
    args: argparse.Namespace, plan: Plan, datasets: list[Dataset], target: Target, also: AlsoMeasure | None
) -> int:
    from datetime import UTC, datetime

    from . import plots, report
    from .cache import VectorCache
    from .runner import Runner

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    cache = VectorCache((args.cache_dir or out / "cache") / "vectors.sqlite", target.label)
    try:
        runner = Runner(
            target,
            cache,
            plan,
            _progress_bars(),
            warn=lambda m: print(m, file=sys.stderr, flush=True),
            also=also,
        )
        print(f"Vectors from: {target.description}", flush=True)
        if args.bedrock == "aws" and not _confirm_cost(runner, datasets, args.yes):
            return 1
        rows, latencies = runner.run(datasets)
    finally:
        cache.close()
    meta = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "target": target.label,
        "target_description": target.description,
        "limit": args.limit,
        "batch_size": plan.batch_size,
        "concurrency": args.concurrency,
        "datasets": [_describe(d) for d in datasets],
        "requests_made": runner.requests_made,
        "via": args.via,
        "notes": (_EMULATOR_NOTES if target.emulator else []) + (_COLLECTIONS_NOTES if also else []),
    }
    report.write_json(out / "report.json", meta, rows, runner.errors)
    report.write_markdown(out / "report.md", meta, rows, runner.errors)
    written = plots.write_all(out, rows, latencies, target.description)
    print("\n".join(report.summary_table(rows)))
    side_by_side = report.collections_table(rows)
    if side_by_side:
        print("\nIn memory and via collections (nDCG@10):\n" + "\n".join(side_by_side))
    total = sum(row["cost_usd"] for row in rows if row["variant"] == "native")
    print(
        f"\nTotal at catalog prices: ${total:.6f} ({runner.requests_made} requests made by this run, the rest "
        f"from the cache). Reports: {out / 'report.md'}, {out / 'report.json'}"
    )
    print("Plots: " + ", ".join(str(path) for path in written))
    if runner.errors:
        print(
            f"{len(runner.errors)} variants could not be measured: see 'Not measured' in the report.",
            file=sys.stderr,
        )
    return 1 if runner.errors else 0


def _confirm_cost(runner: Runner, datasets: list[Dataset], yes: bool) -> bool:
    from embedrock import catalog

    from . import metrics

    expected = runner.expected_tokens(datasets)
    cost = 0.0
    for model_id, tokens in expected.items():
        model = catalog.find(model_id)
        assert model is not None
        cost += metrics.cost_usd(model, tokens)
    print(
        f"Expected cost of this run on Amazon Bedrock: about ${cost:.4f} for about {sum(expected.values()):,} input "
        "tokens not cached yet (estimated from word counts; Bedrock's tokenizers usually count a little more)."
    )
    if not yes:
        print("Nothing was sent. Re-run with --yes to spend it.", file=sys.stderr)
    return yes


def _describe(dataset: Dataset) -> dict[str, Any]:
    from .datasets import StsDataset

    if isinstance(dataset, StsDataset):
        return {
            "name": dataset.name,
            "kind": "sts",
            "pairs": len(dataset.pairs),
            "texts": len(dataset.texts()),
        }
    return {
        "name": dataset.name,
        "kind": "retrieval",
        "queries": len(dataset.queries),
        "documents": len(dataset.corpus),
    }


def _progress_bars() -> Progress:
    """A tqdm bar per variant and data set (on a terminal; tqdm stays quiet otherwise)."""
    from tqdm import tqdm

    def start(label: str, total: int) -> Any:
        if total == 0:
            return lambda n: None
        bar = tqdm(total=total, desc=label, unit="text", file=sys.stderr, disable=None, leave=True)

        def advance(n: int) -> None:
            bar.update(n)
            if bar.n >= total:
                bar.close()

        return advance

    return start
