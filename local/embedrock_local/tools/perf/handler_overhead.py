"""handler_overhead: a warm POST /embeddings through the real Lambda handler, with the
emulator's in-process Bedrock (no socket, no latency), against calling that client directly.

The difference is what the handler adds to every request: event parsing, validation,
the embedder, encoding, logging and metrics. Runs in a fresh interpreter with the deployed
log level and metrics on, output discarded; tracing is off (no X-Ray daemon here). The harness
is added_latency.py's, with the emulator's own client in place of boto3 on both sides.
"""

from __future__ import annotations

import json

from embedrock_local.tools.perf.added_latency import HandlerCase, measure_case
from embedrock_local.tools.perf.common import DIMENSIONS, TITAN_V2, Result, Sizes
from embedrock_local.tools.perf.isolated import run_isolated

SEED_TEXT = "Python is a programming language"


def describe(sizes: Sizes) -> str:
    return (
        f"{sizes.handler_requests:,} warm POST /embeddings (1 text, {DIMENSIONS} dims), "
        "in-process emulated Bedrock answering at once"
    )


def case() -> HandlerCase:
    return HandlerCase(
        name="handler_overhead",
        handler="embedrock.handlers.embeddings",
        function="embeddings",
        path="/embeddings",
        request={"texts": [SEED_TEXT], "model": TITAN_V2, "dimensions": DIMENSIONS},
        model_id=TITAN_V2,
        # What the handler sends for that request, so both sides pay the same backend work.
        bedrock_body=json.dumps(
            {"inputText": SEED_TEXT, "dimensions": DIMENSIONS, "normalize": True}
        ).encode(),
        details={"texts": 1, "dimensions": DIMENSIONS},
        through_boto3=False,
        baseline_label="in-process emulator alone",
        product_label="handler + the emulator",
        ratio_means="handler time / the emulator alone",
    )


def _measure_here(sizes: Sizes) -> Result:
    return measure_case(case(), sizes)


def measure(sizes: Sizes) -> Result:
    return run_isolated(_measure_here, sizes)
