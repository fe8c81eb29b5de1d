"""Identical inputs of one request, embedded once: each distinct input goes to Bedrock (and the
cache) a single time, and its vector is copied back to every position it held.

Identity is the input itself within one spec: the same text, or the same text and image bytes
(EmbedInput and ImageData are frozen dataclasses, so equal inputs hash alike). Everything else that
changes a vector (model, dimensions, input type, truncation, embedding type) is the spec's, and one
embed() call has a single spec. Usage is what Bedrock billed: the distinct inputs' tokens, calls and
images, never a copy's ("For embeddings models, you are charged for every input token processed":
Amazon Bedrock pricing, https://aws.amazon.com/bedrock/pricing/, On-Demand), so a copy never sent
is never charged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from embedrock.embed_input import Item

if TYPE_CHECKING:
    from embedrock.bedrock.embedder import EmbedResult


@dataclass(frozen=True)
class Distinct:
    items: list[Item]  # each distinct input once, in order of first appearance
    positions: np.ndarray  # for each input as sent, the index of its distinct input in `items`

    @property
    def has_copies(self) -> bool:
        return len(self.items) < len(self.positions)

    def spread(self, result: EmbedResult) -> EmbedResult:
        """The result for the distinct inputs, as one row per input as sent, in order."""
        if not self.has_copies:
            return result
        failed = dict(result.failures)
        failures = tuple(
            (index, failed[int(at)]) for index, at in enumerate(self.positions) if int(at) in failed
        )
        return replace(result, vectors=result.vectors[self.positions], failures=failures)


def distinct(items: Sequence[Item]) -> Distinct:
    first_of: dict[Item, int] = {}
    positions = np.fromiter(
        (first_of.setdefault(item, len(first_of)) for item in items), dtype=np.intp, count=len(items)
    )
    return Distinct(items=list(first_of), positions=positions)
