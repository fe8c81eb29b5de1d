"""The Emulator Python API (a server on a background thread) and the foreground `serve`."""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType, TracebackType

from .backends import Backends
from .options import EmulatorOptions
from .server import ADMIN, EmulatorServer


class Emulator:
    """A Bedrock-compatible emulator on a background thread (not Bedrock: vectors are fake).

    with Emulator(EmulatorOptions(latency_ms=5)) as emu:  # 127.0.0.1, a free port
        client = boto3.client("bedrock-runtime", endpoint_url=emu.url, ...)
        emu.faults.add("throttle", every=3)
    """

    def __init__(
        self, options: EmulatorOptions | None = None, /, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.backends = Backends(options)
        self.engine, self.faults, self.stats = self.backends.engine, self.backends.faults, self.backends.stats
        self._server = EmulatorServer((host, port), self.backends)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            # close() waits up to one poll for the loop to notice; tests start and stop many emulators.
            kwargs={"poll_interval": 0.02},
            name="embedrock-emulator",
            daemon=True,
        )
        self._thread.start()

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def env(self) -> dict[str, str]:
        """The variables that point boto3 (and so unchanged Bedrock code) at this emulator."""
        return {
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": self.url,
            "AWS_ENDPOINT_URL_BEDROCK": self.url,
            "AWS_ENDPOINT_URL_S3VECTORS": self.url,
        }

    def close(self) -> None:
        if self.backends.state.stopping.is_set():
            return
        self.backends.stop()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def banner(emulator: Emulator) -> str:
    engine = emulator.engine
    lines = [
        f"Embedrock Bedrock emulator on {emulator.url} -- this is an EMULATOR, not Amazon Bedrock.",
        f"  engine: {engine.name} ({getattr(engine, 'description', 'vectors are not from Bedrock models')})",
        "  Bedrock API: POST /model/{modelId}/invoke, GET /foundation-models, GET /foundation-models/{id},",
        "    GET /inference-profiles, GET /foundation-model-availability/{id},",
        "    GET /list-foundation-model-agreement-offers/{id}, POST /create-foundation-model-agreement",
        "  S3 Vectors API: POST /CreateVectorBucket, /CreateIndex, /PutVectors, /QueryVectors, ...",
        f"    its data: {emulator.backends.options.data_dir} (delete it to wipe)",
        f"  admin: /{ADMIN}/faults (GET, POST, PUT, DELETE), /{ADMIN}/stats (GET, DELETE), /{ADMIN}/health",
        "  faults: " + (", ".join(fault.describe() for fault in emulator.faults) or "none"),
        "  point boto3 at it (any credentials work):",
        *(f"    export {name}={value}" for name, value in emulator.env().items()),
        "Ctrl-C stops it.",
    ]
    return "\n".join(lines)


def serve(options: EmulatorOptions | None = None, *, host: str = "127.0.0.1", port: int = 8081) -> None:
    """Run the emulator in the foreground until Ctrl-C (or SIGTERM)."""
    if threading.current_thread() is threading.main_thread():
        # A shell starting us in the background ignores SIGINT for us; Ctrl-C must still stop us.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _interrupt)
    with Emulator(options, host=host, port=port) as emulator:
        print(banner(emulator), flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("\nEmbedrock Bedrock emulator stopped.", flush=True)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
