"""Test-wide environment: dummy AWS credentials, no tracing, a fixed metrics namespace."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

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
# The benchmark data sets live beside the checkout (../shared/data), never in the repo; a clone
# elsewhere (CI, a reviewer's scratch copy) finds them at the workplace's shared folder.
_DATA_CANDIDATES = (ROOT.parent / "shared" / "data", Path("/work/shared/data"))
os.environ.setdefault(
    "EMBEDROCK_DATA",
    str(next((path for path in _DATA_CANDIDATES if path.is_dir()), _DATA_CANDIDATES[0])),
)
for name in (
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    "AWS_ENDPOINT_URL_BEDROCK",
    "AWS_ENDPOINT_URL_S3VECTORS",
    "EMBEDROCK_VECTOR_BUCKET",
):
    os.environ.pop(name, None)
# The emulators a test process starts keep their S3 Vectors store in a folder of its own, never in
# the user's state folder: no collection outlives the run or leaks from one run into the next.
_EMULATOR_DATA = tempfile.mkdtemp(prefix="embedrock-emulator-")
os.environ["EMBEDROCK_EMULATOR_DATA"] = _EMULATOR_DATA
atexit.register(shutil.rmtree, _EMULATOR_DATA, ignore_errors=True)

# Property tests check what the code does, not how fast: on a shared 2-core CI machine a single
# example can take longer than hypothesis's 200 ms default deadline for reasons of its own.
settings.register_profile("embedrock", deadline=None)
settings.load_profile("embedrock")

MISSING_DATA = (
    "The benchmark data sets are not in {data_dir}. Point EMBEDROCK_DATA at a folder holding "
    "stsb-test.tsv, stsb-dev.tsv and scifact/ (by default ../shared/data beside the checkout), or download "
    "them there once with `.venv/bin/embedrock bench data --data-dir {data_dir}` (README: Tests)."
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data sets; a test that needs them fails (never skips) with how to get them."""
    data_dir = Path(os.environ["EMBEDROCK_DATA"])
    if not (data_dir / "stsb-test.tsv").is_file() or not (data_dir / "scifact" / "corpus.jsonl").is_file():
        pytest.fail(MISSING_DATA.format(data_dir=data_dir), pytrace=False)
    return data_dir
