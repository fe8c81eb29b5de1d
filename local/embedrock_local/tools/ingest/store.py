"""The pipeline's Store on local files: the input file where it is, outputs in the --out directory."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from embedrock.ingest.layout import INPUT_PREFIX, OUTPUT_PREFIX, WORK_PREFIX
from embedrock.ingest.object_store import AccessDenied, Changed, ObjectInfo

WORK_DIR = ".embedrock-work"
LOCAL_BUCKET = "local"  # the bucket name of s3:// image references on a laptop
# .<target name>.<random>.tmp-<pid>: the writer's pid tells a stale file (its process died) from a live one.
_TEMPORARY = re.compile(r"^\..+\.tmp-(?P<pid>[0-9]+)$")


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


_UMASK = _umask()


@dataclass
class DirStore:
    """output/<name> is <out>/<name>, work/... is <out>/.embedrock-work/...; `files` maps other
    keys (the input and its sidecar) to files, each with the metadata S3 would return for it.
    Other input/ keys (images a file references as s3://<bucket>/input/...) are files under `inputs`."""

    out: Path
    files: dict[str, tuple[Path, dict[str, str]]] = field(default_factory=dict)
    inputs: Path | None = None
    bucket: str = LOCAL_BUCKET

    @property
    def location(self) -> str:
        return str(self.out)

    def path(self, key: str) -> Path:
        if key in self.files:
            return self.files[key][0]
        below = PurePosixPath(key[len(INPUT_PREFIX) :])
        if self.inputs is not None and key.startswith(INPUT_PREFIX) and ".." not in below.parts:
            return self.inputs / below  # an S3 key is no path: ".." never climbs out of input/
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

    def read_bounded(self, key: str, *, max_bytes: int, etag: str | None = None) -> bytes:
        path = self.path(key)
        try:
            with path.open("rb") as source:
                if etag is not None and _etag(path) != etag:
                    raise Changed(key)
                return source.read(max_bytes + 1)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise KeyError(key) from None
        except PermissionError:
            raise AccessDenied(key) from None

    def list(self, prefix: str) -> list[str]:
        directory = self.path(prefix)
        if not directory.is_dir():
            return []
        # A file being written (or left by a killed writer) is not an object yet.
        return sorted(
            prefix + str(p.relative_to(directory))
            for p in directory.rglob("*")
            if p.is_file() and not _TEMPORARY.match(p.name)
        )

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            path = self.path(key)
            path.unlink(missing_ok=True)
            self._remove_empty_parents(path)

    def remove_stale_temporaries(self) -> tuple[Path, ...]:
        """Deletes what writers killed mid-write (SIGKILL, power loss) left; returns those paths."""
        candidates = self.out.rglob(".*.tmp-*") if self.out.is_dir() else iter(())
        stale = tuple(path for path in candidates if path.is_file() and _stale(path.name))
        for path in stale:
            path.unlink(missing_ok=True)
        return stale

    def _remove_empty_parents(self, path: Path) -> None:
        # Keeps the work directory from filling with the empty folders of pruned runs.
        for parent in path.parents:
            if parent in (self.out, self.out.parent) or not parent.is_relative_to(self.out):
                return
            try:
                parent.rmdir()
            except OSError:  # not empty (or already gone)
                return

    def _info(self, key: str, path: Path) -> ObjectInfo:
        metadata = self.files[key][1] if key in self.files else {}
        return ObjectInfo(metadata=dict(metadata), size=path.stat().st_size, etag=_etag(path))

    @staticmethod
    def _replace(path: Path, write: Callable[[IO[bytes]], object]) -> None:
        # Write next to the target, then rename: a reader never sees half a file (as with S3).
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp-{os.getpid()}"
        )
        try:
            os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp creates 0600; keep the user's default
            with os.fdopen(handle, "wb") as stream:
                write(stream)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _etag(path: Path) -> str:
    """A file's stand-in for S3's ETag: it changes whenever the file is written again."""
    stat = path.stat()
    return f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'


def _stale(name: str) -> bool:
    found = _TEMPORARY.match(name)
    return found is not None and not _alive(int(found["pid"]))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
