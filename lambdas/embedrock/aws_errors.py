"""The error code of a failed AWS call: the one reader of botocore's `response["Error"]["Code"]`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def error_code(error: BaseException | None) -> str | None:
    """`ThrottlingException`, `NoSuchKey`...: the code of a botocore ClientError, else None.

    Read by duck typing, so modules that only inspect errors need not import botocore.
    """
    response = getattr(error, "response", None)
    return response_code(response) if isinstance(response, Mapping) else None


def response_code(response: Mapping[str, Any] | None) -> str | None:
    """The code of a parsed botocore response (what botocore's retry hooks see), else None."""
    error = response.get("Error") if isinstance(response, Mapping) else None
    code = error.get("Code") if isinstance(error, Mapping) else None
    return str(code) if code else None
