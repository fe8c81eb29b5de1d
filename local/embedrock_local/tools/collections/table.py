"""Plain aligned columns for a terminal (as `embedrock models` prints them)."""

from __future__ import annotations

from collections.abc import Sequence

CELL_MAX = 60  # a longer cell (a document's text) is cut with an ellipsis


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cells = [list(headers), *([_cut(cell) for cell in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )


def _cut(cell: str) -> str:
    flat = " ".join(cell.split())  # one line per row, whatever the text holds
    return flat if len(flat) <= CELL_MAX else flat[: CELL_MAX - 1] + "…"
