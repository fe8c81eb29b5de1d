"""`embedrock serve`'s runtime: the Bedrock emulator (or real Bedrock) behind the gateway, on one machine."""

from __future__ import annotations

import os
from typing import Literal

from embedrock_local.environment import function_environment
from embedrock_local.runtime.emulator import Emulator, EmulatorOptions
from embedrock_local.runtime.gateway import DEFAULT_LIMITS, ConnectionLimits, LocalGateway

BedrockMode = Literal["emulator", "aws"]
# The vector bucket the collections use against the emulator (EMBEDROCK_VECTOR_BUCKET), created
# in it at start when missing; with real AWS the caller's EMBEDROCK_VECTOR_BUCKET names one.
LOCAL_VECTOR_BUCKET = "embedrock-local"


class LocalRuntime:
    """Emulator and gateway started together and stopped together."""

    def __init__(
        self,
        *,
        bedrock: BedrockMode = "emulator",
        engine: str = "hash",
        host: str = "127.0.0.1",
        port: int = 0,
        emulator_port: int = 0,
        api_key: str | None = None,
        containers: int = 2,
        log_level: str = "WARNING",
        settings: dict[str, str] | None = None,
        limits: ConnectionLimits = DEFAULT_LIMITS,
        emulator_options: EmulatorOptions | None = None,
    ) -> None:
        """`emulator_options` (profiles, agreements, faults...) replace the default emulator's; its
        engine wins over `engine`."""
        options = emulator_options or EmulatorOptions(engine=engine)
        self.emulator = Emulator(options, port=emulator_port) if bedrock == "emulator" else None
        if self.emulator is not None:
            settings = {"EMBEDROCK_VECTOR_BUCKET": LOCAL_VECTOR_BUCKET, **(settings or {})}
        elif os.environ.get("EMBEDROCK_VECTOR_BUCKET"):
            settings = {"EMBEDROCK_VECTOR_BUCKET": os.environ["EMBEDROCK_VECTOR_BUCKET"], **(settings or {})}
        environment = function_environment(
            self.emulator.url if self.emulator else None, log_level=log_level, extra=settings
        )
        self.environment = environment
        try:
            if self.emulator is not None:
                _ensure_vector_bucket(self.emulator, environment["EMBEDROCK_VECTOR_BUCKET"])
            self.gateway = LocalGateway(
                environment,
                host=host,
                port=port,
                api_key=api_key,
                containers=containers,
                limits=limits,
            )
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        return self.gateway.url

    def start(self) -> LocalRuntime:
        try:
            self.gateway.start()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        gateway = getattr(self, "gateway", None)
        if gateway is not None:
            gateway.close()
        if self.emulator is not None:
            self.emulator.close()

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()


def _ensure_vector_bucket(emulator: Emulator, name: str) -> None:
    """The collections' vector bucket in the emulator's store (kept across restarts), made if missing."""
    from embedrock_local.runtime.emulator.s3vectors.errors import S3VectorsError

    backend = emulator.backends.s3vectors
    try:
        backend.call("GetVectorBucket", {"vectorBucketName": name})
    except S3VectorsError as error:
        if error.code != "NotFoundException":
            raise
        backend.call("CreateVectorBucket", {"vectorBucketName": name})
