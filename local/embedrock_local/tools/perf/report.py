"""The results as an aligned Markdown table (paste it as is) and as JSON."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path

from embedrock_local.tools.perf.common import Result, seconds_text

_HEADER = ("measure", "baseline", "time", "product", "time", "ratio", "goal", "met")


def machine() -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"{os.cpu_count()} cores, Python {platform.python_version()}, load average {load}"


def table(results: Sequence[Result]) -> str:
    rows = [_HEADER] + [
        (
            result.name,
            result.baseline.label,
            seconds_text(result.baseline.seconds),
            result.product.label,
            seconds_text(result.product.seconds),
            ratio_text(result.ratio),
            result.goal,
            "yes" if result.met else "NO",
        )
        for result in results
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_HEADER))]
    numeric = {2, 4, 5}

    def line(cells: Sequence[str]) -> str:
        padded = (
            cell.rjust(width) if i in numeric else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join("-" * (width + 1) + (":" if i in numeric else "-") for i, width in enumerate(widths))
        + "|"
    )
    figures = [f"- {result.name}: {result.verdict} (ratio: {result.ratio_means})" for result in results]
    return "\n".join([line(rows[0]), rule, *(line(row) for row in rows[1:]), "", *figures])


def ratio_text(ratio: float) -> str:
    return f"{ratio:,.0f}x" if ratio >= 100 else f"{ratio:.3g}x"


def write_json(results: Sequence[Result], path: Path) -> None:
    path.write_text(json.dumps({result.name: result.to_json() for result in results}, indent=2) + "\n")
