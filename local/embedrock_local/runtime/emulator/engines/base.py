"""What an engine is: `name` and `embed(texts, dimensions)` returning unit-norm rows.

Model families scale or quantize the rows afterwards; engines know nothing of Bedrock.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating]


class Engine(Protocol):
    name: str

    def embed(self, texts: list[str], dimensions: int) -> FloatArray:
        """Return an array of shape (len(texts), dimensions) with unit-norm rows."""
        ...
