"""A file's configuration: object metadata over sidecar over defaults; invalid values rejected."""

from __future__ import annotations

import json

import pytest

from embedrock.errors import InvalidRequest
from embedrock.ingest.config import resolve

TITAN_V2 = "amazon.titan-embed-text-v2:0"
COHERE = "cohere.embed-english-v3"
COHERE_V4 = "cohere.embed-v4:0"


def sidecar(**values: object) -> bytes:
    return json.dumps(values).encode()


def test_without_metadata_or_sidecar_the_stack_defaults_apply() -> None:
    # Given no per-file configuration
    config = resolve({}, None, default_model_id=TITAN_V2)
    # Then the default model at its default dimensions is used, normalized, as floats
    assert config.canonical() == {
        "model": TITAN_V2,
        "invoke_model": TITAN_V2,
        "dimensions": 1024,
        "normalize": True,
        "input_type": None,
        "embedding_type": "float",
        "truncate": None,
        "collection": None,
    }
    assert set(config.sources.values()) == {"default"}
    # And the run's identity is the one files had before invoke_model and truncate: their run ids hold
    assert config.identity() == {
        "model": TITAN_V2,
        "dimensions": 1024,
        "normalize": True,
        "input_type": None,
        "embedding_type": "float",
    }


def test_a_profile_id_is_kept_as_the_invoke_id_beside_the_catalog_model() -> None:
    # Given a file naming Cohere v4 through its US inference profile
    config = resolve({"model": f"us.{COHERE_V4}"}, None, default_model_id=TITAN_V2)
    # Then the spec invokes the profile, and the configuration keeps both ids
    assert (config.spec.model.id, config.spec.invoke_id) == (COHERE_V4, f"us.{COHERE_V4}")
    assert (config.canonical()["model"], config.canonical()["invoke_model"]) == (COHERE_V4, f"us.{COHERE_V4}")
    # And the route is part of the run's identity, unlike the same model by its own id
    by_id = resolve({"model": COHERE_V4}, None, default_model_id=TITAN_V2)
    assert "invoke_model" not in by_id.identity()
    assert config.identity() == {**by_id.identity(), "invoke_model": f"us.{COHERE_V4}"}


@pytest.mark.parametrize("truncate", ["LEFT", "RIGHT"])
def test_a_truncate_other_than_none_is_in_the_configuration_and_the_identity(truncate: str) -> None:
    # Given Cohere v4 with a truncate from the sidecar, and one at the default NONE
    config = resolve({}, sidecar(model=COHERE_V4, truncate=truncate), default_model_id=TITAN_V2)
    default = resolve({}, sidecar(model=COHERE_V4), default_model_id=TITAN_V2)
    # Then it reaches the spec and the configuration; NONE stays out of the identity, others do not
    assert config.spec.truncate == truncate and config.sources["truncate"] == "sidecar"
    assert config.canonical()["truncate"] == truncate and default.canonical()["truncate"] == "NONE"
    assert "truncate" not in default.identity()
    assert config.identity() == {**default.identity(), "truncate": truncate}


def test_metadata_wins_over_the_sidecar_which_wins_over_defaults() -> None:
    # Given a sidecar choosing Titan V2 at 256, unnormalized, and metadata choosing 512
    config = resolve(
        {"dimensions": "512"},
        sidecar(model=TITAN_V2, dimensions=256, normalize=False),
        default_model_id=COHERE,
    )
    # Then each setting comes from the most specific source that has it
    assert (config.spec.model.id, config.spec.dimensions, config.spec.normalize) == (TITAN_V2, 512, False)
    assert config.sources == {
        "model": "sidecar",
        "dimensions": "metadata",
        "normalize": "sidecar",
        "input_type": "default",
        "embedding_type": "default",
        "truncate": "default",
        "collection": "default",
    }


def test_metadata_keys_accept_dashes_and_any_case() -> None:
    # Given S3 metadata as the CLI writes it (input-type with a dash)
    config = resolve({"Model": COHERE, "input-type": "search_query"}, None, default_model_id=TITAN_V2)
    # Then it is read
    assert (config.spec.model.id, config.spec.input_type) == (COHERE, "search_query")


@pytest.mark.parametrize(
    ("metadata", "raw_sidecar", "param", "code", "words"),
    [
        ({"dimensions": "384"}, None, "dimensions", "invalid_dimensions", ["256, 512, 1024", "metadata"]),
        ({"dimensions": "many"}, None, "dimensions", "invalid_config_value", ["integer"]),
        ({"normalize": "maybe"}, None, "normalize", "invalid_config_value", ["true or false"]),
        ({}, sidecar(model="titan"), "model", "model_not_found", ["titan", TITAN_V2, "sidecar"]),
        ({}, sidecar(dimension=512), "dimension", "unknown_config_key", ["dimension", "allowed keys"]),
        ({}, sidecar(dimensions=True), "dimensions", "invalid_config_value", ["an integer"]),
        ({}, sidecar(dimensions="512"), "dimensions", "invalid_config_value", ["an integer"]),
        ({}, b"{not json", None, "invalid_config", ["not valid JSON"]),
        ({}, b"[1]", None, "invalid_config", ["JSON object"]),
        ({"input_type": "search_query"}, None, "input_type", "unsupported_parameter", ["not supported"]),
        ({"truncate": "LEFT"}, None, "truncate", "unsupported_parameter", ["not supported", COHERE_V4]),
        (
            {"model": COHERE_V4, "truncate": "END"},
            None,
            "truncate",
            "invalid_truncate",
            ["'END'", "NONE, LEFT, RIGHT", "metadata"],
        ),
        ({}, sidecar(model=COHERE_V4, truncate="MIDDLE"), "truncate", "invalid_truncate", ["sidecar"]),
        ({}, sidecar(truncate=1), "truncate", "invalid_config_value", ["a string"]),
    ],
)
def test_invalid_configuration_is_rejected_not_replaced(
    metadata: dict[str, str], raw_sidecar: bytes | None, param: str | None, code: str, words: list[str]
) -> None:
    # Given an invalid value in the metadata or the sidecar
    # When the configuration is resolved
    with pytest.raises(InvalidRequest) as raised:
        resolve(metadata, raw_sidecar, default_model_id=TITAN_V2)
    # Then it fails naming the setting, the problem and (where it applies) the allowed values
    assert (raised.value.param, raised.value.code) == (param, code)
    for word in words:
        assert word in raised.value.message
