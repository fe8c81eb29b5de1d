"""The error code of a failed AWS call: the one reader of botocore's `response["Error"]["Code"]`."""

from __future__ import annotations


def error_code(error: BaseException | None) -> str | None:
    """`ThrottlingException`, `NoSuchKey`...: the code of a botocore ClientError, else None.

    Read by duck typing, so modules that only inspect errors need not import botocore.
    """
    response = getattr(error, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return str(code) if code else None
