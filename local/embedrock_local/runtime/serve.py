"""The whole service on one machine: the Bedrock emulator (or real Bedrock) behind the gateway."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Literal

from embedrock_local.runtime.emulator import Emulator, EmulatorOptions
from embedrock_local.runtime.gateway import INTEGRATION_TIMEOUT_SECONDS, LocalGateway
from embedrock_local.runtime.httpio import CLIENT_TIMEOUT_SECONDS, IDLE_TIMEOUT_SECONDS, MAX_CONNECTIONS

BedrockMode = Literal["emulator", "aws"]


def function_environment(
    emulator_url: str | None,
    *,
    log_level: str = "WARNING",
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """What the Lambda runtime would set, plus the boto3 endpoint variables for the emulator."""
    environment = {
        "POWERTOOLS_SERVICE_NAME": "embedrock-local",
        "POWERTOOLS_METRICS_NAMESPACE": "Embedrock",
        # No X-Ray daemon and no CloudWatch agent on a laptop: keep stdout for logs.
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_DISABLED": "1",
        "POWERTOOLS_LOG_LEVEL": log_level,
        "AWS_DEFAULT_REGION": os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "us-east-1",
    }
    if emulator_url is not None:
        # Dummy credentials: the emulator does not check signatures, and nothing may reach AWS.
        environment |= {
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": emulator_url,
            "AWS_ENDPOINT_URL_BEDROCK": emulator_url,
            "AWS_ACCESS_KEY_ID": "embedrock-local",
            "AWS_SECRET_ACCESS_KEY": "embedrock-local",
            "AWS_SESSION_TOKEN": "embedrock-local",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    return environment | (extra or {})


@contextmanager
def environment_set(values: Mapping[str, str]) -> Iterator[None]:
    """Set these variables for the block (boto3 and settings read them), then restore the old ones."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


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
        integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS,
        client_timeout: float = CLIENT_TIMEOUT_SECONDS,
        idle_timeout: float = IDLE_TIMEOUT_SECONDS,
        max_connections: int = MAX_CONNECTIONS,
        access_log: bool = False,
    ) -> None:
        self.emulator = (
            Emulator(EmulatorOptions(engine=engine), port=emulator_port) if bedrock == "emulator" else None
        )
        environment = function_environment(
            self.emulator.url if self.emulator else None, log_level=log_level, extra=settings
        )
        try:
            self.gateway = LocalGateway(
                environment,
                host=host,
                port=port,
                api_key=api_key,
                containers=containers,
                integration_timeout=integration_timeout,
                client_timeout=client_timeout,
                idle_timeout=idle_timeout,
                max_connections=max_connections,
                access_log=access_log,
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
