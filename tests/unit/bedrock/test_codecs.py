"""Response decoding of Cohere v4 (a dict by type) and Nova (a list of typed embeddings)."""

from __future__ import annotations

import numpy as np
import pytest

from embedrock.bedrock import codecs
from embedrock.embed_spec import resolve_spec
from embedrock.errors import ModelFailed

V4 = "cohere.embed-v4:0"
NOVA = "amazon.nova-2-multimodal-embeddings-v1:0"


def test_v4_reads_the_asked_type_from_the_dict_by_type() -> None:
    spec = resolve_spec(model_id=V4, dimensions=256, embedding_type="int8")
    payload = {
        "id": "x",
        "response_type": "embeddings_by_type",
        "embeddings": {"float": [[0.5] * 256], "int8": [[-128] * 128 + [127] * 128]},
    }
    decoded = codecs.decode(spec, payload, expected=1)
    assert decoded.dtype == np.int8 and decoded.tolist() == [[-128] * 128 + [127] * 128]


@pytest.mark.parametrize(("kind", "dtype"), [("binary", np.int8), ("ubinary", np.uint8)])
def test_v4_binary_types_are_kept_packed_as_sent(kind: str, dtype: type[np.generic]) -> None:
    spec = resolve_spec(model_id=V4, dimensions=256, embedding_type=kind)
    row = list(range(-16, 16)) if kind == "binary" else list(range(200, 232))
    decoded = codecs.decode(spec, {"embeddings": {kind: [row, row]}}, expected=2)
    assert decoded.shape == (2, 32) and decoded.dtype == dtype
    assert decoded[1].tolist() == row


def test_v4_answer_without_the_asked_type_is_a_model_error() -> None:
    spec = resolve_spec(model_id=V4, embedding_type="uint8")
    with pytest.raises(ModelFailed, match="cannot read"):
        codecs.decode(spec, {"embeddings": {"float": [[0.1] * 1536]}}, expected=1)


def test_v4_a_list_instead_of_a_dict_is_a_model_error() -> None:
    spec = resolve_spec(model_id=V4, dimensions=256)
    with pytest.raises(ModelFailed):
        codecs.decode(spec, {"embeddings": [[0.1] * 256]}, expected=1)


def test_nova_reads_the_embedding_of_its_one_entry() -> None:
    spec = resolve_spec(model_id=NOVA, dimensions=256)
    payload = {"embeddings": [{"embeddingType": "TEXT", "embedding": [0.25] * 256}]}
    decoded = codecs.decode(spec, payload, expected=1)
    np.testing.assert_allclose(decoded, [[0.25] * 256])


@pytest.mark.parametrize(
    "payload",
    [
        {"embeddings": []},
        {"embeddings": [{"embeddingType": "TEXT", "embedding": [0.1] * 256}] * 2},
        {"embeddings": [{"embeddingType": "TEXT", "embedding": [0.1] * 384}]},
        {"embeddings": [{"embeddingType": "TEXT"}]},
        {"embedding": [0.1] * 256},
    ],
)
def test_nova_malformed_answers_are_model_errors(payload: dict[str, object]) -> None:
    spec = resolve_spec(model_id=NOVA, dimensions=256)
    with pytest.raises(ModelFailed):
        codecs.decode(spec, payload, expected=1)


def test_tokens_of_both_come_from_the_header() -> None:
    for model_id in (V4, NOVA):
        spec = resolve_spec(model_id=model_id)
        assert codecs.input_tokens(spec, {}, {codecs.TOKEN_COUNT_HEADER: "17"}) == 17


def test_truncate_changes_the_cache_identity_only_when_it_cuts() -> None:
    plain = resolve_spec(model_id=V4)
    assert plain.truncate == "NONE"
    assert plain.cache_key_parts() == (V4, 1536, True, "search_document", "float")
    assert resolve_spec(model_id=V4, truncate="LEFT").cache_key_parts()[-1] == "LEFT"
    assert resolve_spec(model_id="amazon.titan-embed-text-v2:0").truncate is None
