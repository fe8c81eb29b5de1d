"""`embedrock bench seed`: the seed notebook, replayed through the product's client layer."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from embedrock import catalog
from embedrock.api.model_schemas import InferenceProfileInfo, ModelInfo
from embedrock.api.services import model_info
from embedrock.embed_spec import resolve_spec

from .target import Target

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
    profiles = embedding_profiles(models, out)

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


def embedding_profiles(models: Sequence[ModelInfo], out: Callable[[str], None]) -> list[str]:
    """Print the inference profiles that route to one of `models`; return their ids.

    They come with the model list (model_info.list_models reads ListInferenceProfiles once for it),
    so the replay makes no call of its own. A model whose profiles Bedrock did not say (an endpoint
    without the operation, a role without bedrock:ListInferenceProfiles) has None: one line says so.
    """
    if models and all(model.inference_profiles is None for model in models):
        out(
            "\nInference profiles: not listed; ListInferenceProfiles failed (the endpoint or your role lacks it)"
        )
        return []
    by_id: dict[str, tuple[InferenceProfileInfo, list[str]]] = {}
    for model in models:
        for profile in model.inference_profiles or []:
            by_id.setdefault(profile.id, (profile, []))[1].append(model.id)
    out(f"\nInference profiles of these models ({len(by_id)}):")
    for profile, targets in by_id.values():
        regions = ", ".join(profile.regions)
        out(f"  {profile.id:<45} {profile.type:<15} {', '.join(sorted(targets))} in {regions}")
    return list(by_id)
