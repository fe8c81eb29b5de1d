"""Embedding requests checked against the catalog, before any paid call is made.

Every check raises an InvalidRequest or PayloadTooLarge naming the field and the allowed
values; nothing here knows about HTTP or API Gateway.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from embedrock import catalog, inference_profiles
from embedrock.catalog import CatalogModel
from embedrock.errors import InvalidRequest, PayloadTooLarge, one_of, shown

Encoding = Literal["float", "base64"]

# Packed bits, 8 dimensions per byte, for every model (DESIGN: one meaning per name).
BINARY_TYPES = frozenset({"binary", "ubinary"})

# Worst-case bytes one number takes in a response: a JSON float such as
# "-0.012345678901234567," or 4 float32 bytes as base64 (4 * 4/3). Integers are shorter.
_JSON_FLOAT_BYTES = 24
_JSON_INT_BYTES = 5
_BASE64_BYTES_PER_FLOAT = 16 / 3
_PER_VECTOR_OVERHEAD = 64


@dataclass(frozen=True)
class EmbedSpec:
    """A fully resolved request: which model, and how its vectors should come back.

    `invoke_id` is the id InvokeModel is called with, and responses echo: the model's id, or the
    inference profile id the caller chose (`us.cohere.embed-v4:0`), which routes the same model.
    """

    model: CatalogModel
    dimensions: int
    normalize: bool
    input_type: str | None
    embedding_type: str
    # NONE, LEFT or RIGHT for a model with truncation (catalog.TRUNCATE_MODES); None otherwise.
    truncate: str | None = None
    # The id InvokeModel is called with: the model's own, or an inference profile's (us.…).
    invoke_id: str = ""
    # Tokens kept per input, for a model with `max_tokens` (catalog max_tokens_limit); None: unset.
    max_tokens: int | None = None

    def __post_init__(self) -> None:
        if not self.invoke_id:
            object.__setattr__(self, "invoke_id", self.model.id)

    def cache_key_parts(self) -> tuple[str | int | bool | None, ...]:
        # The model's id, not invoke_id: a profile runs the same model version in whichever region it
        # routes to, so its vectors are the model's own; one key lets either id reuse the other's.
        parts: tuple[str | int | bool | None, ...] = (
            self.model.id,
            self.dimensions,
            self.normalize,
            self.input_type,
            self.embedding_type,
        )
        # A truncated text embeds differently; NONE (the default) keeps the keys cached before it.
        if self.truncate not in (None, "NONE"):
            parts = (*parts, self.truncate)
        # So does a text cut at max_tokens; named, so it never reads as a truncate mode.
        return parts if self.max_tokens is None else (*parts, f"max_tokens={self.max_tokens}")

    @property
    def width(self) -> int:
        """Values in one vector as returned: one per dimension, or one byte per 8 for binary types."""
        return -(-self.dimensions // 8) if self.embedding_type in BINARY_TYPES else self.dimensions


def resolve_spec(
    *,
    model_id: str | None,
    dimensions: int | None = None,
    normalize: bool = True,
    input_type: str | None = None,
    embedding_type: str | None = None,
    truncate: str | None = None,
    max_tokens: int | None = None,
    default_model_id: str = catalog.DEFAULT_MODEL_ID,
    allowed_profiles: Collection[str] | None = None,
) -> EmbedSpec:
    """`allowed_profiles`: the inference profiles this deployment may invoke (None: any)."""
    chosen = default_model_id if model_id is None else model_id
    model = resolve_model(chosen, allowed_profiles=allowed_profiles)
    if dimensions is None:
        dimensions = model.default_dimensions
    elif dimensions not in model.dimensions:
        raise _not_allowed("dimensions", shown(dimensions), model.id, model.dimensions)
    if input_type is None:
        input_type = model.default_input_type
    elif not model.input_types:
        raise InvalidRequest(
            f"input_type is not supported by {model.id}; omit it. "
            f"Models that take it: {one_of(m.id for m in catalog.MODELS if m.input_types)}.",
            param="input_type",
            code="unsupported_parameter",
        )
    elif input_type not in model.input_types:
        raise _not_allowed("input_type", f"'{shown(input_type)}'", model.id, model.input_types)
    embedding_type = embedding_type or "float"
    if embedding_type not in model.embedding_types:
        raise _not_allowed("embedding_type", f"'{shown(embedding_type)}'", model.id, model.embedding_types)
    return EmbedSpec(
        model,
        dimensions,
        normalize,
        input_type,
        embedding_type,
        _truncate(model, truncate),
        chosen,
        _max_tokens(model, max_tokens),
    )


def _max_tokens(model: CatalogModel, max_tokens: int | None) -> int | None:
    """Unset unless asked; only for the models that take it, within 1..their limit."""
    if max_tokens is None:
        return None
    limit = model.max_tokens_limit
    if limit is None:
        raise InvalidRequest(
            f"max_tokens is not supported by {model.id}; omit it. Models that take it: "
            f"{one_of(m.id for m in catalog.MODELS if m.max_tokens_limit)}.",
            param="max_tokens",
            code="unsupported_parameter",
        )
    if not 1 <= max_tokens <= limit:
        raise InvalidRequest(
            f"max_tokens {shown(max_tokens)} is not allowed for {model.id}; allowed values: 1 to {limit}.",
            param="max_tokens",
            code="invalid_max_tokens",
        )
    return max_tokens


def _truncate(model: CatalogModel, truncate: str | None) -> str | None:
    """NONE unless asked: an over-long text is rejected, never silently cut."""
    if not model.truncate_modes:
        if truncate is None:
            return None
        raise InvalidRequest(
            f"truncate is not supported by {model.id}, which rejects an over-long text; omit it. "
            f"Models that take it: {one_of(m.id for m in catalog.MODELS if m.truncate_modes)}.",
            param="truncate",
            code="unsupported_parameter",
        )
    if truncate is None:
        return "NONE"
    if truncate not in model.truncate_modes:
        raise _not_allowed("truncate", f"'{shown(truncate)}'", model.id, model.truncate_modes)
    return truncate


def _not_allowed(param: str, value: str, model_id: str, allowed: Iterable[object]) -> InvalidRequest:
    """A value the model does not take: one message shape, one code (invalid_<param>) per field."""
    return InvalidRequest(
        f"{param} {value} is not allowed for {model_id}; allowed values: {one_of(allowed)}.",
        param=param,
        code=f"invalid_{param}",
    )


def resolve_model(
    model_id: str, *, param: str = "model", allowed_profiles: Collection[str] | None = None
) -> CatalogModel:
    """The catalog model a model id or an inference profile id (`us.<model id>`) names.

    A profile id is refused before any paid call when the model has no profile in that geography
    (inference_profiles.SYSTEM_PROFILES), or when it is outside `allowed_profiles` (None: any), the
    profiles the deployment's IAM grants: Bedrock would answer with a misleading access denied.
    """
    reference = inference_profiles.parse(model_id)
    model = catalog.find(reference.model_id)
    if model is None:
        raise InvalidRequest(
            f"model '{shown(model_id)}' is not a supported embedding model; "
            f"allowed values: {one_of(catalog.model_ids())}, or an inference profile id of one of "
            f"them ({inference_profiles.example_ids()}).",
            param=param,
            code="model_not_found",
        )
    if reference.geography is None:
        return model
    if not inference_profiles.is_documented(reference):
        raise InvalidRequest(
            f"model '{shown(model_id)}': {model.id} has no {reference.geography}. inference profile; "
            f"allowed values: {one_of((model.id, *inference_profiles.system_profile_ids(model.id)))}.",
            param=param,
            code="inference_profile_not_found",
        )
    profile = inference_profiles.profile_id(reference.geography, model.id)
    if allowed_profiles is not None and profile not in allowed_profiles:
        allowed = f"allowed profiles: {one_of(allowed_profiles)}" if allowed_profiles else "it allows none"
        raise InvalidRequest(
            f"model '{shown(model_id)}': this deployment may not invoke the inference profile {profile} "
            f"({allowed}); use {model.id} where Bedrock serves it on demand, or have the operator "
            "allow the profile (CDK context embedrock:inferenceProfiles).",
            param=param,
            code="inference_profile_not_allowed",
        )
    return model


def check_texts(texts: Sequence[str], model: CatalogModel, *, max_texts: int, param: str = "texts") -> None:
    check_count(len(texts), max_items=max_texts, param=param)
    for index, text in enumerate(texts):
        check_text(text, model, where=f"{param}[{index}]")


def check_count(
    count: int,
    *,
    max_items: int,
    param: str,
    noun: str = "text",
    advice: str = "Split the request, or use the batch pipeline for whole files.",
) -> None:
    """At least one input, and no more than one request may hold."""
    if not count:
        raise InvalidRequest(f"{param} must hold at least one {noun}.", param=param, code="empty_input")
    if count > max_items:
        raise InvalidRequest(
            f"{param} holds {count} {noun}s; at most {max_items} are allowed in one request. {advice}",
            param=param,
            code="too_many_texts",
        )


def check_text(text: str, model: CatalogModel, *, where: str) -> None:
    """One text: not blank, and within the model's character bound. `where` names it in the message."""
    if not text.strip():
        raise InvalidRequest(
            f"{where} is empty; every text must hold at least one non-blank character.",
            param=where,
            code="empty_text",
        )
    if len(text) > model.max_input_chars:
        raise InvalidRequest(
            f"{where} has {len(text)} characters; {model.id} takes at most "
            f"{model.max_input_chars} characters ({model.max_input_tokens} tokens) per text.",
            param=where,
            code="text_too_long",
        )


def estimated_response_bytes(n_texts: int, spec: EmbedSpec, encoding: Encoding) -> int:
    if encoding == "base64":
        per_number = _BASE64_BYTES_PER_FLOAT if spec.embedding_type == "float" else 4 / 3
    else:
        per_number = _JSON_FLOAT_BYTES if spec.embedding_type == "float" else _JSON_INT_BYTES
    return int(n_texts * (spec.width * per_number + _PER_VECTOR_OVERHEAD))


def check_response_size(
    n_texts: int,
    spec: EmbedSpec,
    encoding: Encoding,
    *,
    limit_bytes: int,
    param: str = "texts",
    encoding_field: str = "encoding",
) -> None:
    """413 before any call. `param` and `encoding_field` are the route's names for the texts and
    the encoding (`input` and `encoding_format` on /v1/embeddings)."""
    estimate = estimated_response_bytes(n_texts, spec, encoding)
    if estimate > limit_bytes:
        advice = [] if encoding == "base64" else [f'"{encoding_field}": "base64" (about 4x smaller)']
        smaller = [d for d in spec.model.dimensions if d < spec.dimensions]
        if smaller:
            advice.append(f"fewer dimensions ({one_of(smaller)})")
        advice += ["fewer texts per request", "the batch pipeline for whole files"]
        raise PayloadTooLarge(
            f"the response would be about {estimate / 1e6:.1f} MB, over Lambda's 6 MB response "
            f"limit ({limit_bytes / 1e6:.1f} MB usable); use {', or '.join(advice)}.",
            param=param,
            code="response_too_large",
        )
