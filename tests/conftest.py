"""Test-wide environment: dummy AWS credentials, no tracing, a fixed metrics namespace."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Set before any product module is imported: settings and Powertools read them at import.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "Embedrock",
        "POWERTOOLS_SERVICE_NAME": "embedrock",
        "POWERTOOLS_DEV": "0",
    }
)
os.environ.setdefault("EMBEDROCK_DATA", str(ROOT.parent / "shared" / "data"))
for name in (
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    "AWS_ENDPOINT_URL_BEDROCK",
):
    os.environ.pop(name, None)
