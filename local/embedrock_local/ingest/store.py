"""The pipeline's Store on local files: the input file where it is, outputs in the --out directory."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from embedrock.ingest.layout import OUTPUT_PREFIX, WORK_PREFIX
from embedrock.ingest.store import ObjectInfo

WORK_DIR = ".embedrock-work"


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


_UMASK = _umask()


@dataclass
class DirStore:
    """output/<name> is <out>/<name>, work/... is <out>/.embedrock-work/...; `files` maps other
    keys (the input and its sidecar) to files, each with the metadata S3 would return for it."""

    out: Path
    files: dict[str, tuple[Path, dict[str, str]]] = field(default_factory=dict)

    @property
    def location(self) -> str:
        return str(self.out)

    def path(self, key: str) -> Path:
        if key in self.files:
            return self.files[key][0]
        for prefix, root in ((OUTPUT_PREFIX, self.out), (WORK_PREFIX, self.out / WORK_DIR)):
            if key.startswith(prefix):
                return root / key[len(prefix) :]
        return self.out / WORK_DIR / "other" / key

    def download(self, key: str, target: IO[bytes], *, version_id: str | None = None) -> ObjectInfo:
        path = self.path(key)
        if not path.is_file():
            raise KeyError(key)
        with path.open("rb") as source:
            shutil.copyfileobj(source, target, 1 << 20)
        return self._info(key, path)

    def get(self, key: str) -> bytes | None:
        path = self.path(key)
        return path.read_bytes() if path.is_file() else None

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        self._replace(self.path(key), lambda handle: handle.write(data))

    def upload(self, key: str, source: IO[bytes], *, content_type: str) -> None:
        self._replace(self.path(key), lambda handle: shutil.copyfileobj(source, handle, 1 << 20))

    def head(self, key: str) -> ObjectInfo | None:
        path = self.path(key)
        return self._info(key, path) if path.is_file() else None

    def list(self, prefix: str) -> list[str]:
        directory = self.path(prefix)
        if not directory.is_dir():
            return []
        return sorted(prefix + str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())

    def _info(self, key: str, path: Path) -> ObjectInfo:
        metadata = self.files[key][1] if key in self.files else {}
        return ObjectInfo(metadata=dict(metadata), size=path.stat().st_size)

    @staticmethod
    def _replace(path: Path, write: Callable[[IO[bytes]], object]) -> None:
        # Write next to the target, then rename: a reader never sees half a file (as with S3).
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp creates 0600; keep the user's default
            with os.fdopen(handle, "wb") as stream:
                write(stream)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
