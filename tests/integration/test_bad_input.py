"""Every kind of bad input, through the local gateway: a 4xx in the one error shape, naming the field.

Nothing here reaches Bedrock: the emulator's call count is checked to stay at zero.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from embedrock import catalog, routes
from embedrock_local.runtime.serve import LocalRuntime

pytestmark = pytest.mark.integration

JSON = {"content-type": "application/json"}
ERROR_FIELDS = {"type", "message", "param", "code"}
TITAN = catalog.DEFAULT_MODEL_ID
COHERE = "cohere.embed-english-v3"


@pytest.fixture
def api(runtime: LocalRuntime) -> Iterator[LocalRuntime]:
    """The runtime, with the emulator's counters reset: bad input must never reach Bedrock."""
    assert runtime.emulator is not None
    runtime.emulator.stats.reset()
    yield runtime
    assert runtime.emulator.stats.calls("InvokeModel") == 0


def send(
    runtime: LocalRuntime, path: str, data: bytes, headers: dict[str, str] | None = None
) -> requests.Response:
    return requests.post(f"{runtime.url}{path}", data=data, headers=headers or JSON, timeout=30)


def check_error(
    response: requests.Response,
    status: int,
    param: str | None,
    code: str | None = None,
    *,
    named: bool = True,
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == ERROR_FIELDS, body
    error: dict[str, Any] = body["error"]
    assert error["param"] == param, error
    if code is not None:
        assert error["code"] == code, error
    assert error["message"].endswith(".") and "Traceback" not in response.text
    if param is not None and named:
        assert param.split("[")[0] in error["message"], error  # the message names the field too
    return error


# --- bodies that are not JSON, or not the JSON this API reads ---------------------------------

RAW_BODIES: list[tuple[str, bytes, str | None, str]] = [
    # (case, body, param, code)
    ("invalid JSON", b'{"texts": ["a"', None, "invalid_json"),
    ("not UTF-8", b'{"text": "caf\xe9"}', None, "invalid_json"),
    ("UTF-16", '{"text": "a"}'.encode("utf-16"), None, "invalid_json"),
    # (A UTF-8 byte order mark is skipped, not an error: tests/unit/api/test_error_messages.py.)
    ("nested too deeply", b'{"texts": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", None, "invalid_json"),
    (
        "an integer of 5000 digits",
        b'{"text": "a", "dimensions": 1' + b"0" * 5000 + b"}",
        None,
        "invalid_json",
    ),
    ("an unpaired surrogate", b'{"texts": ["ok", "\\ud800"]}', "texts[1]", "invalid_unicode"),
    ("an unpaired surrogate in the model", b'{"text": "a", "model": "\\udfff"}', "model", "invalid_unicode"),
    ("empty body", b"", None, "invalid_body"),
    ("null", b"null", None, "invalid_body"),
    ("an array", b'[{"text": "a"}]', None, "invalid_body"),
    ("a string", b'"hello"', None, "invalid_body"),
]


@pytest.mark.parametrize(("case", "body", "param", "code"), RAW_BODIES, ids=[case for case, *_ in RAW_BODIES])
def test_bodies_that_are_not_json_objects(
    api: LocalRuntime, case: str, body: bytes, param: str | None, code: str
) -> None:
    for path in ("/embeddings", "/similarity", "/v1/embeddings"):
        check_error(send(api, path, body), 400, param, code)


def test_any_content_type_is_read_as_json(api: LocalRuntime) -> None:
    # curl -d sends form-urlencoded: the body is still JSON, and is read as such
    assert api.emulator is not None
    for content_type in ("application/x-www-form-urlencoded", "text/plain", "application/xml"):
        form = send(api, "/embeddings", b"texts=a&dimensions=256", {"content-type": content_type})
        check_error(form, 400, None, "invalid_json")
    response = send(
        api, "/similarity", json.dumps({"vectors": [[1, 0], [1, 1]]}).encode(), {"content-type": "text/plain"}
    )
    assert response.status_code == 200 and response.json()["score"] == pytest.approx(0.7071, abs=1e-4)


def test_bodies_over_the_limit_are_413_before_any_function_runs(api: LocalRuntime) -> None:
    response = send(api, "/embeddings", b" " * (routes.MAX_REQUEST_BYTES + 1))
    check_error(response, 413, None, "request_too_large")


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: abc\r\n",
        b"Content-Length: -1\r\n",
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
        # A negative chunk size is broken framing, not a body "over the 10 MB limit" (413).
        b"Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
    ],
    ids=["letters", "negative", "bad-chunk", "negative-chunk"],
)
def test_broken_framing_is_a_400_not_a_dropped_connection(api: LocalRuntime, framing: bytes) -> None:
    host, port = api.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(b"POST /embeddings HTTP/1.1\r\nHost: local\r\n" + framing + b"\r\n")
        answer = b""
        while chunk := connection.recv(4096):  # the gateway closes the connection after it
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400") and b'"invalid_body_framing"' in answer


def test_a_chunked_body_is_read_whole(api: LocalRuntime) -> None:
    body = json.dumps({"vectors": [[3, 4], [3, 4]]}).encode()
    response = requests.post(
        f"{api.url}/similarity", data=iter([body[:10], body[10:]]), headers=JSON, timeout=30
    )
    assert response.status_code == 200 and response.json()["score"] == pytest.approx(1.0)


# --- fields: types, missing, unknown ---------------------------------------------------------

FIELDS: list[tuple[str, dict[str, Any], str | None, str]] = [
    # (path, body, param, code)
    ("/embeddings", {}, "texts", "invalid_request"),
    ("/embeddings", {"texts": ["a"], "text": "b"}, "texts", "invalid_request"),
    ("/embeddings", {"texts": "a"}, "texts", "invalid_type"),
    ("/embeddings", {"texts": [1]}, "texts[0]", "invalid_type"),
    ("/embeddings", {"texts": ["a", None]}, "texts[1]", "invalid_type"),
    ("/embeddings", {"text": ["a"]}, "text", "invalid_type"),
    ("/embeddings", {"text": "a", "dimensions": "256"}, "dimensions", "invalid_type"),
    ("/embeddings", {"text": "a", "dimensions": 256.0}, "dimensions", "invalid_type"),
    ("/embeddings", {"text": "a", "dimensions": True}, "dimensions", "invalid_type"),
    ("/embeddings", {"text": "a", "normalize": "true"}, "normalize", "invalid_type"),
    ("/embeddings", {"text": "a", "normalize": 1}, "normalize", "invalid_type"),
    ("/embeddings", {"text": "a", "partial": "yes"}, "partial", "invalid_type"),
    ("/embeddings", {"text": "a", "encoding": "hex"}, "encoding", "invalid_value"),
    ("/embeddings", {"text": "a", "embedding_type": "float16"}, "embedding_type", "invalid_value"),
    ("/embeddings", {"text": "a", "input_type": "query"}, "input_type", "invalid_value"),
    ("/embeddings", {"text": "a", "model": 3}, "model", "invalid_type"),
    ("/embeddings", {"text": "a", "temperature": 0.2}, "temperature", "unknown_field"),
    ("/embeddings", {"text": "a", "input": "b"}, "input", "unknown_field"),
    ("/v1/embeddings", {}, "input", "missing_field"),
    ("/v1/embeddings", {"input": 5}, "input", "invalid_type"),
    ("/v1/embeddings", {"input": [1, -2, 3]}, "input[1]", "invalid_value"),  # token ids
    ("/v1/embeddings", {"input": [[1, 2], []]}, "input[1]", "empty_text"),
    ("/v1/embeddings", {"input": [[1, 2], [3, "4"]]}, "input[1][1]", "invalid_type"),
    ("/v1/embeddings", {"input": "a", "encoding_format": "binary"}, "encoding_format", "invalid_value"),
    ("/v1/embeddings", {"input": "a", "dimensions": "512"}, "dimensions", "invalid_type"),
    ("/similarity", {}, None, "invalid_request"),
    ("/similarity", {"texts": ["a", "b"], "vectors": [[1], [2]]}, "vectors", "invalid_request"),
    ("/similarity", {"documents": ["a"]}, "query", "invalid_request"),
    ("/similarity", {"query": "a"}, "documents", "invalid_request"),
    ("/similarity", {"texts": ["a", "b"], "top_k": 1}, "top_k", "invalid_request"),
    ("/similarity", {"pairs": [["a", "b", "c"]]}, "pairs[0]", "invalid_request"),
    ("/similarity", {"texts": ["a", "b"], "metric": "manhattan"}, "metric", "invalid_value"),
    ("/similarity", {"texts": ["a", "b"], "matrix": "yes"}, "matrix", "invalid_type"),
    ("/similarity", {"vectors": [["1", "2"], [1, 2]]}, "vectors[0][0]", "invalid_type"),
    ("/similarity", {"vectors": [[True, False], [1, 2]]}, "vectors[0][0]", "invalid_type"),
    ("/similarity", {"texts": ["a", "b"], "threshold": 0.5}, "threshold", "unknown_field"),
]


@pytest.mark.parametrize(
    ("path", "body", "param", "code"), FIELDS, ids=[f"{p} {json.dumps(b)}"[:60] for p, b, *_ in FIELDS]
)
def test_wrong_missing_and_unknown_fields(
    api: LocalRuntime, path: str, body: dict[str, Any], param: str | None, code: str
) -> None:
    check_error(send(api, path, json.dumps(body).encode()), 400, param, code)


def test_the_openai_route_ignores_unknown_fields_as_the_openai_client_sends_some(api: LocalRuntime) -> None:
    assert api.emulator is not None
    response = send(
        api, "/v1/embeddings", json.dumps({"input": "a", "user": "u1", "extra_body_field": 1}).encode()
    )
    assert response.status_code == 200
    api.emulator.stats.reset()  # this one call was meant


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/embeddings?model=cohere.embed-english-v3"),
        ("GET", "/models?providr=Cohere"),
        ("POST", "/similarity?top_k=1"),
    ],
)
def test_unknown_query_parameters_are_rejected(api: LocalRuntime, method: str, path: str) -> None:
    name = path.split("?")[1].split("=", maxsplit=1)[0]
    body = {"texts": ["a", "b"]} if path.startswith("/similarity") else {"text": "a"}
    response = requests.request(method, f"{api.url}{path}", json=body, timeout=30)
    check_error(response, 400, name, "unknown_parameter")


def test_probes_may_add_query_strings_to_health(api: LocalRuntime) -> None:
    assert requests.get(f"{api.url}/health?ts=123", timeout=30).status_code == 200


# --- texts -----------------------------------------------------------------------------------

TEXTS: list[tuple[dict[str, Any], str, str]] = [
    ({"texts": []}, "texts", "empty_input"),
    ({"texts": [""]}, "texts[0]", "empty_text"),
    ({"texts": ["ok", " \t\n\u00a0\u2003"]}, "texts[1]", "empty_text"),
    ({"text": "   "}, "text", "empty_text"),
    ({"texts": ["a"] * 2049}, "texts", "too_many_texts"),
]


@pytest.mark.parametrize(
    ("body", "param", "code"), TEXTS, ids=[code + "-" + param for _, param, code in TEXTS]
)
def test_empty_blank_and_too_many_texts(
    api: LocalRuntime, body: dict[str, Any], param: str, code: str
) -> None:
    check_error(send(api, "/embeddings", json.dumps(body).encode()), 400, param, code)


@pytest.mark.parametrize("model", catalog.MODELS, ids=lambda model: model.id)
def test_a_text_over_each_models_limit(api: LocalRuntime, model: catalog.CatalogModel) -> None:
    too_long = "a" * (model.max_input_chars + 1)
    error = check_error(
        send(api, "/embeddings", json.dumps({"texts": ["ok", too_long], "model": model.id}).encode()),
        400,
        "texts[1]",
        "text_too_long",
    )
    assert str(model.max_input_chars) in error["message"]
    query = send(
        api, "/similarity", json.dumps({"query": too_long, "documents": ["a"], "model": model.id}).encode()
    )
    check_error(query, 400, "query", "text_too_long")


# --- models, dimensions, input and embedding types --------------------------------------------

NOT_EMBEDDING_MODELS = [
    "anthropic.claude-3-haiku-20240307-v1:0",
    "amazon.titan-text-express-v1",
    "amazon.titan-embed-text-v2:0:8k",  # provisioned-only variant
    "openai.text-embedding-3-small",
    "",
]


@pytest.mark.parametrize("model_id", NOT_EMBEDDING_MODELS)
def test_unknown_or_non_embedding_models_are_400_listing_the_allowed_ones(
    api: LocalRuntime, model_id: str
) -> None:
    for path, body in (
        ("/embeddings", {"text": "a", "model": model_id}),
        ("/v1/embeddings", {"input": "a", "model": model_id}),
        ("/similarity", {"texts": ["a", "b"], "model": model_id}),
    ):
        error = check_error(send(api, path, json.dumps(body).encode()), 400, "model", "model_not_found")
        assert TITAN in error["message"]


def test_an_unknown_model_id_on_the_models_route_is_a_404(api: LocalRuntime) -> None:
    response = requests.get(f"{api.url}/models/anthropic.claude-v2", timeout=30)
    assert "anthropic.claude-v2" in check_error(response, 404, "model_id", named=False)["message"]


@pytest.mark.parametrize("model", catalog.MODELS, ids=lambda model: model.id)
def test_dimensions_the_model_does_not_take(api: LocalRuntime, model: catalog.CatalogModel) -> None:
    for dimensions in (0, -1, 384 if 384 not in model.dimensions else 100, 10**12):
        error = check_error(
            send(
                api,
                "/embeddings",
                json.dumps({"text": "a", "model": model.id, "dimensions": dimensions}).encode(),
            ),
            400,
            "dimensions",
            "invalid_dimensions",
        )
        assert ", ".join(map(str, model.dimensions)) in error["message"]


@pytest.mark.parametrize("model", catalog.MODELS, ids=lambda model: model.id)
def test_input_and_embedding_types_the_model_does_not_take(
    api: LocalRuntime, model: catalog.CatalogModel
) -> None:
    input_type = send(
        api,
        "/embeddings",
        json.dumps({"text": "a", "model": model.id, "input_type": "search_query"}).encode(),
    )
    if model.input_types:
        assert input_type.status_code == 200
        api.emulator.stats.reset()  # type: ignore[union-attr]  # this one call was meant
    else:
        check_error(input_type, 400, "input_type", "unsupported_parameter")
    refused = [kind for kind in catalog.EMBEDDING_TYPES if kind not in model.embedding_types]
    for kind in refused:
        body = {"text": "a", "model": model.id, "embedding_type": kind}
        check_error(
            send(api, "/embeddings", json.dumps(body).encode()),
            400,
            "embedding_type",
            "invalid_embedding_type",
        )


# --- vectors and top_k -------------------------------------------------------------------------

VECTORS: list[tuple[bytes, str | None, str]] = [
    (b'{"vectors": [[1, NaN], [1, 1]]}', "vectors[0]", "invalid_vector"),
    (b'{"vectors": [[1, 1], [Infinity, 1]]}', "vectors[1]", "invalid_vector"),
    (b'{"vectors": [[1, 1], [-Infinity, 1]]}', "vectors[1]", "invalid_vector"),
    (b'{"vectors": [[1e400, 1], [1, 1]]}', "vectors[0]", "invalid_vector"),
    (b'{"pairs": [[[1, 2], [NaN, 1]]]}', "pairs[0][1]", "invalid_vector"),
    (b'{"query": [NaN, 1], "documents": [[1, 1]]}', "query", "invalid_vector"),
    (b'{"query": [1, 1], "documents": [[1, 1], [1, Infinity]]}', "documents[1]", "invalid_vector"),
    (b'{"vectors": [[1, 2, 3], [1, 2]]}', "vectors[1]", "dimension_mismatch"),
    (b'{"vectors": [[1, 2], [1, 2], [1]], "matrix": true}', "vectors[2]", "dimension_mismatch"),
    (b'{"pairs": [[[1, 2], [1, 2, 3]]]}', "pairs[0][1]", "dimension_mismatch"),
    (b'{"pairs": [[[1, 2], [1, 2]], [[1], [1]]]}', "pairs[1][0]", "dimension_mismatch"),
    (b'{"query": [1, 2, 3], "documents": [[1, 2], [3, 4]]}', "query", "dimension_mismatch"),
    (b'{"vectors": [[], []]}', "vectors[0]", "empty_vector"),
    (b'{"vectors": [[0, 0], [1, 1]]}', "vectors[0]", "zero_vector"),
    (b'{"vectors": [[1, 1]]}', "vectors", "invalid_shape"),
    (b'{"query": "a", "documents": [[1, 1]]}', "documents", "invalid_shape"),
    (b'{"query": [1, 1], "documents": ["a"]}', "documents", "invalid_shape"),
    (b'{"vectors": [[1, 1], [1, 1]], "model": "cohere.embed-english-v3"}', "model", "unsupported_parameter"),
    (b'{"vectors": [[1, 1], [1, 1]], "dimensions": 256}', "dimensions", "unsupported_parameter"),
    (b'{"query": [1, 0], "documents": []}', "documents", "empty_input"),
    (b'{"pairs": []}', "pairs", "empty_input"),
]


@pytest.mark.parametrize(("body", "param", "code"), VECTORS, ids=[body.decode()[:50] for body, *_ in VECTORS])
def test_bad_vectors(api: LocalRuntime, body: bytes, param: str | None, code: str) -> None:
    check_error(send(api, "/similarity", body), 400, param, code)


@pytest.mark.parametrize("top_k", [0, -1, 3, 10**30, 1.5, "1", None])
def test_top_k_out_of_range_or_not_an_integer(api: LocalRuntime, top_k: Any) -> None:
    body = {"query": [1, 0], "documents": [[1, 0], [0, 1]], "top_k": top_k}
    response = send(api, "/similarity", json.dumps(body).encode())
    if top_k is None:  # null is "all documents"
        assert response.status_code == 200 and len(response.json()["results"]) == 2
        return
    code = "invalid_type" if not isinstance(top_k, int) else "invalid_top_k"
    error = check_error(response, 400, "top_k", code)
    if code == "invalid_top_k":
        assert "between 1 and the number of documents (2)" in error["message"]


def test_huge_and_tiny_vectors_give_the_right_cosine_not_an_error(api: LocalRuntime) -> None:
    # cosine ignores length: 1e300 and 1e-300 point the same way as 1
    body = {"pairs": [[[1e300, 1e300], [1, 1]], [[1e-300, 0], [1, 0]]]}
    response = send(api, "/similarity", json.dumps(body).encode())
    assert response.status_code == 200, response.text
    assert response.json()["scores"] == pytest.approx([1.0, 1.0])


def test_scores_that_overflow_are_a_400(api: LocalRuntime) -> None:
    body = {"vectors": [[1e200, 1e200], [1e200, 1e200]], "metric": "dot"}
    check_error(send(api, "/similarity", json.dumps(body).encode()), 400, None, "score_overflow")


# --- responses that would be too large ---------------------------------------------------------


def test_a_response_over_lambdas_6_mb_is_a_413_with_advice(api: LocalRuntime) -> None:
    body = {"texts": ["word"] * 2048, "dimensions": 1024}
    error = check_error(
        send(api, "/embeddings", json.dumps(body).encode()), 413, "texts", "response_too_large"
    )
    assert "base64" in error["message"] and "fewer" in error["message"]
    matrix = {"vectors": [[1.0, 2.0]] * 1000, "matrix": True}
    check_error(send(api, "/similarity", json.dumps(matrix).encode()), 413, "vectors", "response_too_large")


# --- routes and methods ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nowhere"),
        ("DELETE", "/embeddings"),
        ("TRACE", "/models"),
        ("PUT", "/models/x"),
        ("M-SEARCH", "/models"),
    ],
)
def test_unknown_routes_and_methods_are_404_in_the_error_shape(
    api: LocalRuntime, method: str, path: str
) -> None:
    check_error(requests.request(method, f"{api.url}{path}", timeout=30), 404, None, "route_not_found")


@pytest.mark.parametrize("provider", ["", "x" * 100, "Amazon;DROP", "\u0000"])
def test_a_bad_provider_filter_is_a_400(api: LocalRuntime, provider: str) -> None:
    response = requests.get(f"{api.url}/models", params={"provider": provider}, timeout=30)
    check_error(response, 400, "provider")
