"""POST /embeddings and POST /v1/embeddings: every check first, then one embedder call.

Model, dimensions, texts and the size of the response are all checked against the catalog
and the settings before anything is sent to Bedrock, so a bad request costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from embedrock import wiring
from embedrock.api.schemas import (
    EmbeddingsRequest,
    EmbeddingsResponse,
    Encoding,
    InputItem,
    ItemError,
    OpenAIEmbedding,
    OpenAIEmbeddingsRequest,
    OpenAIEmbeddingsResponse,
    OpenAIUsage,
    PartialEmbeddingsResponse,
    Usage,
)
from embedrock.cache import with_cache
from embedrock.catalog import CatalogModel
from embedrock.data_uri import decode_image
from embedrock.embed_input import EmbedInput, Item, check_takes_image, text_of
from embedrock.embed_input import check_items as check_images
from embedrock.embed_spec import (
    EmbedSpec,
    check_count,
    check_response_size,
    check_text,
    check_texts,
    resolve_spec,
)
from embedrock.errors import InvalidRequest
from embedrock.http.schemas import ErrorDetail
from embedrock.observability import record_embedding
from embedrock.pricing import cost_usd

if TYPE_CHECKING:
    from embedrock.bedrock.embedder import EmbedResult


def to_items(inputs: Sequence[InputItem], model: CatalogModel) -> list[Item]:
    """`inputs` as the core takes them: a text-only item stays a plain string (same path, same
    cache key as `texts`); an image is decoded from its data URI once, here, its errors naming
    the model's own formats."""
    items: list[Item] = []
    for index, given in enumerate(inputs):
        if given.image is None:
            items.append(given.text or "")
        else:
            where = f"inputs[{index}].image"
            if not model.image_formats:  # text only: say so before reading the image
                check_takes_image(model, with_text=given.text is not None, where=where, image_where=where)
            image = decode_image(given.image, where, formats=model.image_formats)
            items.append(EmbedInput(given.text, image))
    return items


def check_items(items: Sequence[Item], model: CatalogModel) -> None:
    """`inputs`: the count, each text as check_texts checks it, each image against the model."""
    check_count(
        len(items),
        max_items=wiring.settings().max_texts_per_request,
        param="inputs",
        noun="item",
        advice="Split the request.",
    )
    for index, item in enumerate(items):
        text = text_of(item)
        if text is not None:
            check_text(
                text, model, where=f"inputs[{index}]" if isinstance(item, str) else f"inputs[{index}].text"
            )
    check_images(items, model, param="inputs")


def check_input(texts: Sequence[str], model: CatalogModel, *, param: str, single: bool = False) -> None:
    """check_texts, naming a lone text `text` rather than `text[0]`."""
    try:
        check_texts(texts, model, max_texts=wiring.settings().max_texts_per_request, param=param)
    except InvalidRequest as error:
        if not single or error.param != f"{param}[0]":
            raise
        raise InvalidRequest(
            error.message.replace(f"{param}[0]", param, 1), param=param, code=error.code
        ) from None


def billed_usage(model: CatalogModel, input_tokens: int, requests: int, images: int = 0) -> Usage:
    """A response's usage: Bedrock's token and image counts (cache hits add none) and what they cost."""
    return Usage(
        input_tokens=input_tokens, requests=requests, cost_usd=cost_usd(model, input_tokens, images=images)
    )


def embed(
    spec: EmbedSpec, texts: Sequence[Item], *, partial: bool = False, record: bool = True
) -> EmbedResult:
    """The one way the API layer calls Bedrock: embed, then record usage (never the texts).

    `record=False`: the caller makes several calls for one request and records their sum once
    (a request's metrics carry one Model dimension)."""
    embedder = with_cache(wiring.embedder(), wiring.cache())
    result = embedder.embed(spec, texts, partial=True) if partial else embedder.embed(spec, texts)
    if record:
        record_embedding(spec.model.id, len(texts), result)
    return result


def _spec(request: EmbeddingsRequest | OpenAIEmbeddingsRequest) -> EmbedSpec:
    """The request's fields checked against the catalog (the texts are checked apart)."""
    config = wiring.settings()
    if isinstance(request, EmbeddingsRequest):
        return resolve_spec(
            model_id=request.model,
            dimensions=request.dimensions,
            normalize=request.normalize,
            input_type=request.input_type,
            embedding_type=request.embedding_type,
            truncate=request.truncate,
            max_tokens=request.max_tokens,
            default_model_id=config.default_model_id,
            allowed_profiles=config.inference_profiles,
        )
    return resolve_spec(
        model_id=request.model,
        dimensions=request.dimensions,
        input_type=request.input_type,
        truncate=request.truncate,
        default_model_id=config.default_model_id,
        allowed_profiles=config.inference_profiles,
    )


def _check_request(
    request: EmbeddingsRequest | OpenAIEmbeddingsRequest,
    spec: EmbedSpec,
    texts: list[Item],
    param: str,
    single: bool,
) -> None:
    config = wiring.settings()
    encoding: Encoding
    if isinstance(request, EmbeddingsRequest):
        encoding, encoding_field = request.encoding, "encoding"
    else:
        encoding, encoding_field = request.encoding_format, "encoding_format"
    if param == "inputs":
        check_items(texts, spec.model)
    else:
        # texts, text and input hold strings only (the schema's types).
        check_input(cast("list[str]", texts), spec.model, param=param, single=single)
    check_response_size(
        len(texts),
        spec,
        encoding,
        limit_bytes=config.max_response_bytes,
        param=param,
        encoding_field=encoding_field,
    )


def create_embeddings(request: EmbeddingsRequest) -> EmbeddingsResponse:
    from embedrock.encoding import encode

    spec = _spec(request)
    if request.inputs is not None:
        texts, param = to_items(request.inputs, spec.model), "inputs"
    else:
        plain, param = request.input_texts()
        texts = list(plain)
    _check_request(request, spec, texts, param, single=request.text is not None)
    result = embed(spec, texts, partial=request.partial)
    embeddings = encode(result.vectors, spec.embedding_type, request.encoding)
    fields: dict[str, Any] = {
        "model": spec.invoke_id,  # the id the caller sent: a model or an inference profile
        "dimensions": spec.dimensions,
        "embedding_type": spec.embedding_type,
        "encoding": request.encoding,
        "usage": billed_usage(spec.model, result.input_tokens, result.bedrock_calls, result.images),
    }
    if not request.partial:
        # Built from our own arrays: skip re-validating every number (model_construct).
        return EmbeddingsResponse.model_construct(embeddings=embeddings, **fields)
    partial: list[object] = list(embeddings)
    errors = []
    for index, error in result.failures:
        partial[index] = None
        errors.append(
            ItemError(
                index=index, status=error.status, error=ErrorDetail.model_validate(error.body()["error"])
            )
        )
    return PartialEmbeddingsResponse.model_construct(embeddings=partial, errors=errors, **fields)


def create_openai_embeddings(request: OpenAIEmbeddingsRequest) -> OpenAIEmbeddingsResponse:
    from embedrock.encoding import encode

    strings, single = request.input_texts()
    texts: list[Item] = list(strings)
    spec = _spec(request)
    _check_request(request, spec, texts, "input", single=single)
    result = embed(spec, texts)
    vectors = encode(result.vectors, "float", request.encoding_format)
    return OpenAIEmbeddingsResponse.model_construct(
        object="list",
        data=[
            OpenAIEmbedding.model_construct(object="embedding", embedding=vector, index=index)
            for index, vector in enumerate(vectors)
        ],
        model=spec.invoke_id,
        usage=OpenAIUsage(
            prompt_tokens=result.input_tokens,
            total_tokens=result.input_tokens,
            cost_usd=cost_usd(spec.model, result.input_tokens, images=result.images),
        ),
    )
