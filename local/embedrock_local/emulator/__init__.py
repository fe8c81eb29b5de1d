"""A Bedrock-compatible emulator for offline tests: Bedrock's REST API, validation and errors.

It speaks bedrock-runtime InvokeModel and bedrock ListFoundationModels/GetFoundationModel for
the catalog's embedding models, so unchanged boto3 code runs against it (endpoint_url, or
AWS_ENDPOINT_URL_BEDROCK_RUNTIME / AWS_ENDPOINT_URL_BEDROCK). Vectors come from a local engine,
not from Bedrock's models. Faults (latency, throttling, timeouts, access denied, ...) can be
injected at start or at run time.
"""

from .engines import Engine, HashEngine, engines, make_engine
from .faults import Fault, FaultKind, FaultSet
from .runner import Emulator, serve
from .stats import Stats

__all__ = [
    "Emulator",
    "Engine",
    "Fault",
    "FaultKind",
    "FaultSet",
    "HashEngine",
    "Stats",
    "engines",
    "make_engine",
    "serve",
]
