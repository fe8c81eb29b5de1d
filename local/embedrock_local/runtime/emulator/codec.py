"""What every model family's request handler shares: its result type and number rendering."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from embedrock.catalog import CatalogModel

from .engines import Engine, FloatArray


@dataclass(frozen=True)
class Invocation:
    """A model's answer: the JSON body and the input tokens it counted (billed)."""

    body: dict[str, Any]
    input_tokens: int


# A family handler validates the body as Bedrock does for that family, then embeds.
FamilyHandler = Callable[[CatalogModel, dict[str, Any], Engine], Invocation]


def floats(vector: FloatArray) -> npt.NDArray[np.float32]:
    # Bedrock answers with float32-precision numbers; orjson writes a float32 array in its
    # shortest form, so the JSON stays short and each number is the float32 value.
    return np.asarray(vector, dtype=np.float32)


def magnitude(tokens: int) -> float:
    """Norm given to vectors a model does not normalize: deterministic, grows with the input.

    Real unnormalized embeddings have norms that vary by input; callers must not assume 1.
    """
    return 1.0 + 0.5 * math.log2(2 + tokens)


def image_stand_in(raw: bytes) -> str:
    """What an engine embeds for an image: a token derived from its bytes. Engines embed text, so
    the same image always gets the same vector and different images unrelated ones; nothing of
    what the image shows is seen (not Bedrock; minilm embeds this token like any text)."""
    return "image " + hashlib.sha256(raw).hexdigest()
