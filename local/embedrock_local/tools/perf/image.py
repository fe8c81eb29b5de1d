"""image: what POST /embeddings adds over its one Bedrock call for an image input (data URI
decode, format, size and pixel checks, the Titan Multimodal codec), against a bare boto3
invoke_model of the same body, with Bedrock answering at once (added_latency.py).
"""

from __future__ import annotations

import base64
import json
import random
import struct
import zlib

from embedrock_local.tools.perf.added_latency import HandlerCase, measure_case
from embedrock_local.tools.perf.common import DIMENSIONS, Result, Sizes
from embedrock_local.tools.perf.isolated import run_isolated

MODEL = "amazon.titan-embed-image-v1"
SIDE = 384  # pixels; noise compresses little, so the PNG is about as large as its pixels (~440 KB)


def describe(sizes: Sizes) -> str:
    return (
        f"{sizes.handler_requests:,} warm POST /embeddings (one {SIDE}x{SIDE} PNG, {MODEL}, {DIMENSIONS} dims), "
        "in-process emulated Bedrock answering at once"
    )


def noise_png(side: int, seed: int = 7) -> bytes:
    """A valid RGB PNG of random pixels, written with zlib alone."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = random.Random(seed).randbytes(side * side * 3)
    scanlines = b"".join(b"\x00" + rows[y * side * 3 : (y + 1) * side * 3] for y in range(side))
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(scanlines, 6))
        + chunk(b"IEND", b"")
    )


def case() -> HandlerCase:
    png = noise_png(SIDE)
    encoded = base64.b64encode(png).decode("ascii")
    # Titan Multimodal's InvokeModel body, as the codec writes it (codecs.TitanMultimodal).
    bedrock_body = {"inputImage": encoded, "embeddingConfig": {"outputEmbeddingLength": DIMENSIONS}}
    return HandlerCase(
        name="image",
        handler="embedrock.handlers.embeddings",
        function="embeddings",
        path="/embeddings",
        request={
            "model": MODEL,
            "inputs": [{"image": f"data:image/png;base64,{encoded}"}],
            "dimensions": DIMENSIONS,
        },
        model_id=MODEL,
        bedrock_body=json.dumps(bedrock_body).encode(),
        details={
            "model": MODEL,
            "image_bytes": len(png),
            "pixels": f"{SIDE}x{SIDE}",
            "dimensions": DIMENSIONS,
        },
    )


def _measure_here(sizes: Sizes) -> Result:
    return measure_case(case(), sizes)


def measure(sizes: Sizes) -> Result:
    return run_isolated(_measure_here, sizes)
