"""README "Choosing a model": each row of its table is a variant the catalog allows, priced as the catalog says."""

from __future__ import annotations

import re
from pathlib import Path

from embedrock import catalog
from embedrock_local.tools.bench import metrics

README = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")


def table_rows() -> list[list[str]]:
    section = README.split("## Choosing a model", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if re.match(r"\| [a-z]+\.[\w.:-]+ \|", line)]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def test_every_row_is_a_catalog_variant_with_the_catalog_price_and_size():
    rows = table_rows()
    assert {row[0] for row in rows} >= {"cohere.embed-v4:0", "amazon.nova-2-multimodal-embeddings-v1:0"}
    for model_id, dims, kind, *_, size, price in rows:
        model = catalog.find(model_id)
        assert model is not None, model_id
        assert int(dims) in model.dimensions and kind in model.embedding_types, (model_id, dims, kind)
        assert float(price) == model.price_per_million_tokens, (model_id, price)
        assert int(size.replace(",", "")) == metrics.bytes_per_vector(kind, int(dims)), (model_id, dims, kind)


def test_percentages_are_relative_to_the_model_s_own_full_float_row():
    rows = table_rows()
    for model_id, dims, kind, sts, sts_pct, scifact, scifact_pct, *_ in rows:
        model = catalog.find(model_id)
        assert model is not None
        full = next(
            (r for r in rows if r[0] == model_id and r[1:3] == [str(max(model.dimensions)), "float"]), None
        )
        if full is None:  # no full-size float row shown for this model
            continue
        assert abs(100 * float(sts) / float(full[3]) - float(sts_pct)) < 0.06, (model_id, dims, kind)
        assert abs(100 * float(scifact) / float(full[5]) - float(scifact_pct)) < 0.06, (model_id, dims, kind)
