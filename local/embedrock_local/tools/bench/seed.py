"""`embedrock bench seed`: the seed notebook, replayed through the product's client layer."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from botocore.exceptions import ClientError

from embedrock import catalog
from embedrock.api.services import model_info
from embedrock.aws_errors import error_code
from embedrock.bedrock.error_mapping import bedrock_errors
from embedrock.embed_spec import resolve_spec
from embedrock.errors import shown

from .target import Target

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient

SENTENCE = "Python is a programming language"
PAIRS = (
    (SENTENCE, "i have to go to the market"),
    ("Its a sunny day", "Today it may not be raining"),
)
# What the notebook printed on Amazon Bedrock (Titan V2, 1024 dims), per DESIGN.md.
ON_BEDROCK = (-0.01, 0.29)


def replay(target: Target, out: Callable[[str], None] = print) -> dict[str, object]:
    out(f"Vectors from: {target.description}")
    models = [m for m in model_info.list_models(target.control) if "embed" in m.id]
    out(f"\nModels whose id contains 'embed' ({len(models)}):")
    for model in models:
        out(f"  {model.id:<45} {model.provider:<8} supported={model.supported}")
    profiles = embedding_profiles(target.control, {m.id for m in models}, out)

    titan = catalog.find(catalog.DEFAULT_MODEL_ID)
    assert titan is not None
    norms: dict[int, float] = {}
    out(f"\n{titan.id}: {SENTENCE!r} at each allowed dimension")
    for dimensions in titan.dimensions:
        spec = resolve_spec(model_id=titan.id, dimensions=dimensions)
        result = target.embedder.embed(spec, [SENTENCE])
        norms[dimensions] = float(np.linalg.norm(result.vectors[0]))
        out(f"  {dimensions:>5} dims  norm {norms[dimensions]:.4f}  input tokens {result.input_tokens}")

    spec = resolve_spec(model_id=titan.id)
    cosines: list[float] = []
    out(f"\nCosine similarity at {spec.dimensions} dims (on Amazon Bedrock the notebook printed):")
    for (left, right), reference in zip(PAIRS, ON_BEDROCK, strict=True):
        vectors = target.embedder.embed(spec, [left, right]).vectors
        cosine = float(vectors[0] @ vectors[1] / (np.linalg.norm(vectors[0]) * np.linalg.norm(vectors[1])))
        cosines.append(cosine)
        out(f"  {cosine:+.4f}  (Bedrock ~{reference:+.2f})  {left!r} vs {right!r}")
    return {"models": [m.id for m in models], "profiles": profiles, "norms": norms, "cosines": cosines}


def embedding_profiles(
    control: BedrockClient, model_ids: Collection[str], out: Callable[[str], None]
) -> list[str]:
    """Print the inference profiles that route to one of `model_ids`; return their ids.

    ListInferenceProfiles (GET /inference-profiles, paginated by nextToken; botocore's bedrock
    service model, 2023-04-20) lists system-defined and application profiles, each with the
    foundation-model ARNs it routes to. An endpoint without the operation, or a role without
    bedrock:ListInferenceProfiles, gets one line saying so instead of failing the replay.
    """
    # Bedrock's refusals are reported here; an unreachable endpoint fails the replay as the other calls do.
    with bedrock_errors(invoking=False):
        try:
            pages = control.get_paginator("list_inference_profiles").paginate()
            summaries = [summary for page in pages for summary in page.get("inferenceProfileSummaries", [])]
        except ClientError as error:
            message = shown(error.response.get("Error", {}).get("Message", ""), 200)
            out(
                f"\nInference profiles: not listed; ListInferenceProfiles answered {error_code(error)}: {message}"
            )
            return []
    routed = [(summary, _routes(summary)) for summary in summaries]
    matching = [(s, routes) for s, routes in routed if any(m in model_ids for m, _ in routes)]
    out(f"\nInference profiles of these models ({len(matching)}):")
    for summary, routes in matching:
        regions = ", ".join(sorted({region for _, region in routes}))
        targets = ", ".join(sorted({model for model, _ in routes}))
        out(f"  {summary['inferenceProfileId']:<45} {summary.get('type', ''):<15} {targets} in {regions}")
    return [str(summary["inferenceProfileId"]) for summary, _ in matching]


def _routes(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(model id, region) of each `arn:aws:bedrock:REGION::foundation-model/MODEL` a profile routes to."""
    arns = [str(model.get("modelArn", "")) for model in summary.get("models", [])]
    return [(arn.rsplit("/", 1)[-1], arn.split(":")[3]) for arn in arns if arn.count(":") >= 5]
