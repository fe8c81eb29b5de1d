"""PNG plots with matplotlib's Agg backend (no display): quality vs dimensions, quality vs cost,
and the distribution of request latencies. One panel per data set."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .runner import Latencies

_MARKER = {"float": "o", "int8": "s", "uint8": "s", "binary": "^", "ubinary": "^"}
_STYLE = {"float": "-", "int8": "--", "uint8": "--", "binary": ":", "ubinary": ":"}


def write_all(out: Path, rows: Sequence[dict[str, Any]], latencies: Latencies, title: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    datasets = list(dict.fromkeys(row["dataset"] for row in rows))
    if not datasets:
        return []
    return [
        _quality_vs_dimensions(out / "quality_vs_dimensions.png", rows, datasets, title),
        _quality_vs_cost(out / "quality_vs_cost.png", rows, datasets, title),
        _latency(out / "latency.png", latencies, title),
    ]


def _panels(count: int, height: float = 4.0) -> tuple[Any, list[Any]]:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, count, figsize=(6.5 * count, height), squeeze=False)
    return figure, list(axes[0])


def _save(figure: Any, path: Path, title: str) -> Path:
    import matplotlib.pyplot as plt

    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _quality_vs_dimensions(
    path: Path, rows: Sequence[dict[str, Any]], datasets: list[str], title: str
) -> Path:
    figure, axes = _panels(len(datasets))
    for axis, name in zip(axes, datasets, strict=True):
        series: dict[tuple[str, str, bool], list[tuple[int, float]]] = {}
        for row in rows:
            # Rows searched through a collection are the same vectors: the report's side-by-side table shows them.
            if row["dataset"] == name and row.get("via") != "collections":
                truncated = row["variant"] != "native"
                series.setdefault((row["model"], row["embedding_type"], truncated), []).append(
                    (row["dimensions"], row["score"])
                )
        for (model, kind, truncated), points in series.items():
            points.sort()
            label = f"{model} {kind}" + (" (truncated)" if truncated else "")
            axis.plot(
                *zip(*points, strict=True),
                _STYLE.get(kind, "-"),
                marker="x" if truncated else "o",
                label=label,
            )
        axis.set_xscale("log", base=2)
        axis.set_xlabel("dimensions")
        axis.set_ylabel(next(row["metric"] for row in rows if row["dataset"] == name) + " x100")
        axis.set_title(name)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=6)
    return _save(figure, path, title)


def _quality_vs_cost(path: Path, rows: Sequence[dict[str, Any]], datasets: list[str], title: str) -> Path:
    """Colour per model, marker per embedding type, size per dimensions: the cheap-and-good corner
    is top left, and variants of one model (same price) stack on one vertical line."""
    from matplotlib.lines import Line2D

    figure, axes = _panels(len(datasets))
    models = list(dict.fromkeys(row["model"] for row in rows))
    colours = {model: f"C{i}" for i, model in enumerate(models)}
    kinds = list(dict.fromkeys(row["embedding_type"] for row in rows))
    for axis, name in zip(axes, datasets, strict=True):
        for row in rows:
            if row["dataset"] == name and row["variant"] == "native":
                axis.scatter(
                    row["cost_per_million_texts_usd"],
                    row["score"],
                    s=12 + row["dimensions"] / 16,
                    color=colours[row["model"]],
                    marker=_MARKER.get(row["embedding_type"], "o"),
                    alpha=0.75,
                )
        axis.set_xlabel("$ per 1M texts like this data set's")
        axis.set_ylabel(next(row["metric"] for row in rows if row["dataset"] == name) + " x100")
        axis.set_title(name)
        axis.grid(alpha=0.3)
    handles = [Line2D([], [], color=colours[m], marker="o", linestyle="", label=m) for m in models]
    handles += [
        Line2D([], [], color="grey", marker=_MARKER.get(k, "o"), linestyle="", label=k) for k in kinds
    ]
    axes[-1].legend(handles=handles, fontsize=6, title="marker size: dimensions", title_fontsize=6)
    return _save(figure, path, title)


def _latency(path: Path, latencies: Latencies, title: str) -> Path:
    names = [name for name, by_variant in latencies.items() if any(by_variant.values())]
    figure, axes = _panels(
        max(len(names), 1), height=1.2 + 0.35 * max((len(v) for v in latencies.values()), default=1)
    )
    for axis, name in zip(axes, names, strict=False):
        labels = [label for label, samples in latencies[name].items() if samples]
        axis.boxplot(
            [latencies[name][label] for label in labels], orientation="horizontal", tick_labels=labels
        )
        axis.set_xscale("log")
        axis.set_xlabel("ms per request")
        axis.set_title(name)
        axis.tick_params(axis="y", labelsize=7)
        axis.grid(alpha=0.3)
    return _save(figure, path, title)
