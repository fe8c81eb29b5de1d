"""`embedrock bench seed`: the inference profiles it lists next to the embedding models."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from embedrock.api.model_schemas import InferenceProfileInfo, ModelInfo
from embedrock.bedrock.embedder import BedrockEmbedder
from embedrock_local.runtime.emulator import InProcessEmulator
from embedrock_local.tools.bench.seed import embedding_profiles, replay
from embedrock_local.tools.bench.target import Target


class CountingControl:
    """The emulator's control-plane client, counting ListInferenceProfiles calls."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.profile_calls = 0

    def list_inference_profiles(self, **kwargs: Any) -> Any:
        self.profile_calls += 1
        return self._inner.list_inference_profiles(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture
def emulator() -> Iterator[InProcessEmulator]:
    emulator = InProcessEmulator()
    yield emulator
    emulator.close()


def test_the_replay_reads_profiles_from_the_model_list_with_one_list_call(emulator):
    # Given the emulator, which offers Cohere v4's system-defined profiles
    control = CountingControl(emulator.control_client())
    embedder = BedrockEmbedder(emulator.runtime_client(), max_concurrency=2)
    target = Target(embedder, control, "emulator/hash", "emulator, NOT Amazon Bedrock", None)  # type: ignore[arg-type]
    lines: list[str] = []

    # When the seed notebook is replayed
    result = replay(target, lines.append)

    # Then its profiles are those the model list carries, and Bedrock was asked for them once
    assert control.profile_calls == 1
    assert {"us.cohere.embed-v4:0", "eu.cohere.embed-v4:0", "global.cohere.embed-v4:0"} <= set(
        result["profiles"]  # type: ignore[arg-type]
    )
    assert any(
        line.startswith("  us.cohere.embed-v4:0") and "cohere.embed-v4:0 in " in line for line in lines
    )


def model(model_id: str, profiles: list[InferenceProfileInfo] | None) -> ModelInfo:
    return ModelInfo.model_construct(id=model_id, inference_profiles=profiles)


def profile(profile_id: str, regions: list[str]) -> InferenceProfileInfo:
    return InferenceProfileInfo(id=profile_id, name=profile_id, type="SYSTEM_DEFINED", regions=regions)


def test_each_profile_is_listed_once_with_the_models_it_routes_to_and_its_regions():
    # Given a profile that routes to two listed models, and a model with none
    shared = profile("us.example.embed:0", ["us-east-1", "us-west-2"])
    models = [
        model("cohere.embed-v4:0", [profile("us.cohere.embed-v4:0", ["us-east-1"]), shared]),
        model("amazon.titan-embed-text-v2:0", [shared]),
        model("amazon.titan-embed-text-v1", []),
    ]
    lines: list[str] = []

    # When the seed lists them
    found = embedding_profiles(models, lines.append)

    # Then each profile appears once, naming every model it routes to
    assert found == ["us.cohere.embed-v4:0", "us.example.embed:0"]
    assert lines[0] == "\nInference profiles of these models (2):"
    (line,) = [line for line in lines if "us.example.embed:0" in line]
    assert "amazon.titan-embed-text-v2:0, cohere.embed-v4:0 in us-east-1, us-west-2" in line


def test_profiles_bedrock_did_not_list_get_one_clear_line():
    # Given models whose profiles are unknown (ListInferenceProfiles failed for list_models)
    models = [model("cohere.embed-v4:0", None), model("amazon.titan-embed-text-v2:0", None)]
    lines: list[str] = []
    assert embedding_profiles(models, lines.append) == []
    assert lines == [
        "\nInference profiles: not listed; ListInferenceProfiles failed (the endpoint or your role lacks it)"
    ]
