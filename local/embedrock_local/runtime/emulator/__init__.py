"""A Bedrock-compatible emulator for offline tests: Bedrock's REST API, validation and errors.

It speaks bedrock-runtime InvokeModel and bedrock ListFoundationModels/GetFoundationModel for
the catalog's embedding models, so unchanged boto3 code runs against it (endpoint_url, or
AWS_ENDPOINT_URL_BEDROCK_RUNTIME / AWS_ENDPOINT_URL_BEDROCK). Vectors come from a local engine,
not from Bedrock's models. Faults (latency, throttling, timeouts, access denied, ...) can be
injected at start or at run time.

One backend per service (backends.py) answers both the HTTP server (`Emulator`, `serve`) and
the in-process clients (`InProcessEmulator`), configured by one `EmulatorOptions`.
"""

from .engines import Engine, HashEngine, engines, make_engine
from .faults import Fault, FaultKind, FaultSet
from .inprocess import InProcessEmulator
from .options import EmulatorOptions
from .runner import Emulator, serve
from .stats import Stats

__all__ = [
    "Emulator",
    "EmulatorOptions",
    "Engine",
    "Fault",
    "FaultKind",
    "FaultSet",
    "HashEngine",
    "InProcessEmulator",
    "Stats",
    "engines",
    "make_engine",
    "serve",
]
