"""The collections' rules that need more than a field's type: S3 Vectors' limits (limits.py has
their sources), the collection's dimension and metric, and the filter language.

Each violation is a 400 naming the field (`documents[3].vector`, `filter.$and[1].year.$gte`)
and what is allowed, raised before any paid call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from embedrock.errors import InvalidRequest, shown
from embedrock.vector_store import limits
from embedrock.vector_store.metadata import check_id, check_metadata, is_number, is_scalar
from embedrock.vector_store.model import RESERVED_PREFIX

if TYPE_CHECKING:
    from embedrock.collections.schemas import DocumentIn
    from embedrock.vector_store.model import Collection

# S3 User Guide, "Metadata filtering" (s3-vectors-metadata-filtering.html): the comparison and
# logical operators; $startsWith from "Changing a vector index's mode" (ENHANCED indexes).
COMPARISONS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$startsWith")
LOGICAL = ("$and", "$or")
OPERATORS = f"{', '.join(COMPARISONS)}; and {', '.join(LOGICAL)} over filters"
# S3 Vectors stores float32 (limits.DATA_TYPES): a larger magnitude would become infinity.
FLOAT32_MAX = 3.4028234663852886e38
_NAME_RULE = (
    f"{limits.NAME_MIN} to {limits.NAME_MAX} characters of lowercase letters, digits, '-' and '.', "
    "starting and ending with a letter or digit"
)


def check_name(name: str, *, param: str = "name") -> str:
    if not limits.NAME.fullmatch(name):
        raise InvalidRequest(
            f"{param} '{shown(name)}' is not a valid collection name; use {_NAME_RULE}.",
            param=param,
            code="invalid_collection_name",
        )
    return name


def check_vector(vector: Sequence[float], collection: Collection, *, param: str) -> None:
    if len(vector) != collection.dimensions:
        raise InvalidRequest(
            f"{param} has {len(vector)} numbers; collection {collection.name} holds vectors of "
            f"{collection.dimensions} dimensions.",
            param=param,
            code="dimension_mismatch",
        )
    # The common case in C: a NaN or an infinity makes the sum non-finite, and the bounds catch a
    # finite number past float32 (4,096 of those sum far below a double's range). ~2x faster than
    # the loop at 1,024 dimensions; the loop below only names the first bad number.
    if math.isfinite(sum(vector)) and min(vector) >= -FLOAT32_MAX and max(vector) <= FLOAT32_MAX:
        bad: Sequence[float] = ()
    else:
        bad = vector
    for index, value in enumerate(bad):
        if not math.isfinite(value) or abs(value) > FLOAT32_MAX:
            raise InvalidRequest(
                f"{param}[{index}] is {shown(value)}; vectors hold finite float32 numbers only "
                f"(magnitude at most {FLOAT32_MAX:.7g}).",
                param=f"{param}[{index}]",
                code="invalid_vector",
            )
    if collection.metric == "cosine" and not any(vector):
        raise InvalidRequest(
            f"{param} is all zeros, which has no direction: a cosine collection cannot store or search it.",
            param=param,
            code="zero_vector",
        )


def check_documents(documents: Sequence[DocumentIn], collection: Collection) -> None:
    """Every document against the collection and S3 Vectors' per-vector limits."""
    seen: dict[str, int] = {}
    for index, document in enumerate(documents):
        where = f"documents[{index}]"
        check_id(document.id, f"{where}.id")
        if document.id in seen:
            raise InvalidRequest(
                f"{where}.id '{shown(document.id)}' repeats documents[{seen[document.id]}].id; ids must be "
                "unique in a request.",
                param=f"{where}.id",
                code="duplicate_id",
            )
        seen[document.id] = index
        if (document.text is None) == (document.vector is None):
            raise InvalidRequest(
                f"{where} must hold exactly one of text and vector.",
                param=where,
                code="invalid_request",
            )
        if document.vector is not None:
            check_vector(document.vector, collection, param=f"{where}.vector")
        check_metadata(document.metadata, document.text, where=where)


def check_top_k(top_k: int) -> None:
    if not 1 <= top_k <= limits.TOP_K_MAX:
        raise InvalidRequest(
            f"top_k must be from 1 to {limits.TOP_K_MAX} (S3 Vectors' QueryVectors limit); got {top_k}.",
            param="top_k",
            code="invalid_top_k",
        )


def check_filter(spec: Any) -> None:
    """The filter's operators and their operands' shapes, per S3 Vectors' filter language; a key
    starting with the reserved prefix (the stored text, not filterable) is refused too."""
    _filter(spec, "filter")


def _filter(spec: Any, path: str) -> None:
    if not isinstance(spec, dict) or not spec:
        _invalid(path, "must be a non-empty object of conditions")
    for name, value in spec.items():
        where = f"{path}.{shown(name)}"
        if name.startswith("$"):
            if name not in LOGICAL:
                _invalid(where, f"is not a logical operator; at this level: {', '.join(LOGICAL)} or a key")
            if not isinstance(value, list) or not value:
                _invalid(where, "takes a non-empty array of filters")
            for index, item in enumerate(value):
                _filter(item, f"{where}[{index}]")
            continue
        if not name or name.startswith(RESERVED_PREFIX):
            _invalid(
                where,
                f"names a key that cannot be filtered on: keys starting with '{RESERVED_PREFIX}' hold the "
                "service's own non-filterable data, such as the document text",
            )
        if not isinstance(value, dict):
            _operand(value, "$eq", where)
            continue
        if not value:
            _invalid(where, "is an empty condition; give an operator")
        for operator, operand in value.items():
            _operand(operand, operator, f"{where}.{shown(operator)}")


def _operand(operand: Any, operator: str, where: str) -> None:
    match operator:
        case "$eq" | "$ne":
            ok, wanted = is_scalar(operand), "a string, number or boolean"
        case "$gt" | "$gte" | "$lt" | "$lte":
            ok, wanted = is_number(operand), "a number"
        case "$in" | "$nin":
            ok = isinstance(operand, list) and bool(operand) and all(is_scalar(item) for item in operand)
            wanted = "a non-empty array of strings, numbers or booleans"
        case "$exists":
            ok, wanted = isinstance(operand, bool), "true or false"
        case "$startsWith":
            ok, wanted = isinstance(operand, str) and bool(operand), "a non-empty string"
        case _:
            _invalid(where, "is not an operator")
    if not ok:
        _invalid(where, f"takes {wanted}")


def _invalid(where: str, problem: str) -> NoReturn:
    raise InvalidRequest(
        f"{where} {problem}. Filter operators: {OPERATORS}.", param=where, code="invalid_filter"
    )
