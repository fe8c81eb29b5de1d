"""caller_cpu: the CPU this process spends per InvokeModel in the product's fan-out (cap 16,
Titan V2 at 1,024 dimensions, a zero-latency emulator in its own process) against a bare,
single-threaded boto3 loop sending the same bodies and parsing the same responses.

CPU per call is this process's CPU time (every thread, kernel time included) over the calls:
threads contending for the GIL pay for it here. Runs alternate, so a burst of load on the
shared machine hits both. The same product at a cap of 1 (one worker thread, the same path
otherwise) runs in the same alternation and splits the gap: our code and client configuration
against the bare loop at cap 1, threads taking turns on the GIL between cap 1 and cap 16, which
the context switches per call show. A cProfile of the product's call path, one call at a time,
says where the time goes.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import resource
import statistics
import time
from collections.abc import Callable
from typing import Any

import boto3
import orjson

from embedrock import wiring
from embedrock.bedrock import codecs
from embedrock.bedrock.embedder import BedrockEmbedder
from embedrock.embed_spec import EmbedSpec, resolve_spec
from embedrock_local.tools.perf.common import (
    DIMENSIONS,
    TITAN_V2,
    Result,
    Sizes,
    Timing,
    sample_texts,
)
from embedrock_local.tools.perf.emulated import emulated_bedrock

GOAL_RATIO = 1.2
CAP = 16

# Where the product's call path spends its CPU: (label, file suffix, function) whose cumulative
# time counts; botocore's remainder and our own code are what is left of the totals.
_PARTS = (
    ("serialization", "botocore/serialize.py", "serialize_to_request"),
    ("parameter validation", "botocore/validate.py", "validate"),
    ("endpoint resolution", "botocore/regions.py", "construct_endpoint"),
    ("signing (SigV4)", "botocore/signers.py", "sign"),
    ("HTTP send/receive (urllib3, http.client)", "botocore/httpsession.py", "send"),
    ("response parsing", "botocore/parsers.py", "parse"),
)


def describe(sizes: Sizes) -> str:
    return f"{_calls(sizes)} Titan V2 calls at cap {CAP}, zero latency: CPU per call vs a bare boto3 loop"


def _calls(sizes: Sizes) -> int:
    return sizes.fanout_texts * 2  # enough calls that the per-run constant costs vanish


def _repeat(sizes: Sizes) -> int:
    return 5 if sizes.fanout_texts >= 256 else 1


def bare_loop(client: Any, bodies: list[bytes]) -> None:
    """What any caller must do at least: invoke, read the body, parse it (with the same parser)."""
    for body in bodies:
        response = client.invoke_model(
            body=body, modelId=TITAN_V2, accept="application/json", contentType="application/json"
        )
        orjson.loads(response["body"].read())


def _cpu_per_call(action: Callable[[], object], calls: int, switches: list[float]) -> float:
    """CPU seconds per call; appends the voluntary context switches per call (every thread of
    this process: a thread waiting for the GIL or a socket sleeps, and each sleep is one)."""
    switched = resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw
    started = time.process_time()
    action()
    cpu = time.process_time() - started
    switches.append((resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw - switched) / calls)
    return cpu / calls


def profile_summary(embedder: BedrockEmbedder, spec: EmbedSpec, texts: list[str]) -> dict[str, float]:
    """Percent of the product call path's CPU (one call at a time) spent in each part.

    Shares, not times: cProfile's own cost inflates Python-heavy parts (hooks, signing) more
    than the socket calls, so its absolute figures overstate every part.
    """
    profiler = cProfile.Profile(time.process_time)
    profiler.runcall(lambda: [embedder.embed(spec, [text]) for text in texts])
    stats: dict[tuple[str, int, str], tuple[int, int, float, float, Any]]
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]

    def cumulative(suffix: str, function: str) -> float:
        # Row 3 of a pstats entry is the function's cumulative time.
        return sum(
            row[3] for (path, _, name), row in stats.items() if path.endswith(suffix) and name == function
        )

    total = cumulative("embedrock/bedrock/embedder.py", "embed")
    botocore_total = cumulative("botocore/client.py", "_make_api_call")
    parts = {label: cumulative(suffix, function) for label, suffix, function in _PARTS}
    parts["botocore, other (hooks, retries, user agent)"] = botocore_total - sum(parts.values())
    parts["embedrock (codecs, embedder, decoding)"] = total - botocore_total
    return {label: round(100 * seconds / total, 1) for label, seconds in parts.items()}


def measure(sizes: Sizes) -> Result:
    calls = _calls(sizes)
    texts = sample_texts(calls)
    spec = resolve_spec(model_id=TITAN_V2, dimensions=DIMENSIONS)
    codec = codecs.CODECS[spec.model.family]
    bodies = [orjson.dumps(codec.request(spec, [text])) for text in texts]
    with emulated_bedrock(0) as emulator:
        runtime = wiring.runtime_client()
        embedder = wiring.build_embedder(
            runtime, wiring.settings().model_copy(update={"max_concurrency": CAP})
        )
        # The same product with one worker: its own client, built the same way.
        one_settings = wiring.settings().model_copy(update={"max_concurrency": 1})
        one_worker = wiring.build_embedder(wiring.build_runtime_client(one_settings), one_settings)
        bare = boto3.client("bedrock-runtime")
        embedder.embed(spec, texts[: CAP * 2])  # untimed warm-up: threads started, connections open
        one_worker.embed(spec, texts[:4])
        bare_loop(bare, bodies[:4])
        emulator.reset_stats()
        load_before = os.getloadavg()[0]
        bare_cpu: list[float] = []
        one_cpu: list[float] = []
        product_cpu: list[float] = []
        switches: dict[str, list[float]] = {"bare": [], "cap_1": [], f"cap_{CAP}": []}
        for _ in range(_repeat(sizes)):
            bare_cpu.append(_cpu_per_call(lambda: bare_loop(bare, bodies), calls, switches["bare"]))
            one_cpu.append(_cpu_per_call(lambda: one_worker.embed(spec, texts), calls, switches["cap_1"]))
            product_cpu.append(
                _cpu_per_call(lambda: embedder.embed(spec, texts), calls, switches[f"cap_{CAP}"])
            )
        peak_in_flight = emulator.stats()["max_in_flight"]
        profile = profile_summary(embedder, spec, texts[: min(calls, 256)])
        load_after = os.getloadavg()[0]
    baseline, product = statistics.median(bare_cpu), statistics.median(product_cpu)
    one = statistics.median(one_cpu)
    ratio = product / baseline
    return Result(
        name="caller_cpu",
        baseline=Timing("bare boto3 loop, CPU per call", baseline),
        product=Timing(f"BedrockEmbedder cap {CAP}, CPU per call", product),
        ratio=ratio,
        ratio_means="times the bare loop's CPU per call",
        goal=f"<= {GOAL_RATIO}x the bare loop",
        met=ratio <= GOAL_RATIO,
        verdict=f"{product * 1e3:.2f} ms vs {baseline * 1e3:.2f} ms of CPU per InvokeModel "
        f"({ratio:.2f}x); cap 1: {one * 1e3:.2f} ms ({one / baseline:.2f}x); peak {peak_in_flight} "
        f"in flight; load average {load_before:.1f}",
        details={
            "calls_per_run": calls,
            "runs": len(bare_cpu),
            "max_concurrency": CAP,
            "dimensions": DIMENSIONS,
            "bare_cpu_ms_per_call": [round(value * 1e3, 4) for value in bare_cpu],
            "product_cpu_ms_per_call": [round(value * 1e3, 4) for value in product_cpu],
            # Our code and configuration alone (one worker) against the bare loop.
            "cap_1_cpu_ms_per_call": [round(value * 1e3, 4) for value in one_cpu],
            "cap_1_ratio": round(one / baseline, 3),
            "voluntary_context_switches_per_call": {
                name: round(statistics.median(values), 2) for name, values in switches.items()
            },
            "peak_in_flight": peak_in_flight,
            "profile_percent_of_call": profile,
            "load_average": [round(load_before, 2), round(load_after, 2)],
        },
    )
