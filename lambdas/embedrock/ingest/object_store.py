"""Object storage behind the pipeline: S3 in AWS, a directory on a laptop (embedrock ingest).

Only what the pipeline needs: whole small objects, streamed large ones, and prefix listing.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from botocore.exceptions import ClientError

from embedrock.aws_errors import error_code


@dataclass(frozen=True)
class ObjectInfo:
    metadata: dict[str, str] = field(default_factory=dict)
    version_id: str | None = None
    size: int = 0
    etag: str | None = None  # changes when the bytes do: what stands for an image in a run's identity


class AccessDenied(PermissionError):
    """The store refused to read the object (S3's 403)."""


class Changed(Exception):
    """The object is no longer the one planned (S3's 412 to If-Match): it was overwritten since."""


class Store(Protocol):
    @property
    def location(self) -> str:
        """Where keys live, for messages: a bucket name or a directory."""
        ...

    @property
    def bucket(self) -> str:
        """The bucket name s3:// references to this store's objects use."""
        ...

    def download(self, key: str, target: IO[bytes], *, version_id: str | None = None) -> ObjectInfo:
        """Appends the object's bytes to `target` at its current position; raises KeyError if absent."""
        ...

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, data: bytes, *, content_type: str) -> None: ...

    def upload(self, key: str, source: IO[bytes], *, content_type: str) -> None: ...

    def head(self, key: str) -> ObjectInfo | None:
        """The object's metadata and version, or None if there is no such object; AccessDenied if refused."""
        ...

    def read_bounded(self, key: str, *, max_bytes: int, etag: str | None = None) -> bytes:
        """At most max_bytes + 1 of the object's bytes (more than max_bytes: it is too large, and the
        rest is never read). KeyError if absent, AccessDenied if refused, Changed if its ETag is not `etag`."""
        ...

    def list(self, prefix: str) -> list[str]: ...

    def delete(self, keys: Sequence[str]) -> None:
        """Deletes the objects; a key already absent is not an error."""
        ...


class S3Client(Protocol):
    """The S3 operations used here (boto3's client, or moto's in tests)."""

    def get_object(self, **kwargs: Any) -> dict[str, Any]: ...

    def put_object(self, **kwargs: Any) -> dict[str, Any]: ...

    def head_object(self, **kwargs: Any) -> dict[str, Any]: ...

    def upload_fileobj(self, *args: Any, **kwargs: Any) -> None: ...

    def get_paginator(self, operation_name: str) -> Any: ...

    def delete_objects(self, **kwargs: Any) -> dict[str, Any]: ...


_DELETE_BATCH = 1000  # DeleteObjects takes at most 1,000 keys
_MISSING = ("NoSuchKey", "404", "NotFound", "NoSuchVersion")
# HeadObject has no body, so its errors are bare statuses such as 403, 404 and 412; it needs
# s3:GetObject, and a missing key is a 404 only with s3:ListBucket, else a 403 (Amazon S3 API
# Reference, "HeadObject", Permissions).
_DENIED = ("AccessDenied", "403", "Forbidden")
_CHANGED = ("PreconditionFailed", "412")


class S3Store:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    @property
    def location(self) -> str:
        return self._bucket

    @property
    def bucket(self) -> str:
        return self._bucket

    def download(self, key: str, target: IO[bytes], *, version_id: str | None = None) -> ObjectInfo:
        extra = {"VersionId": version_id} if version_id else {}
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=key, **extra)
        except ClientError as error:
            if _missing(error):
                raise KeyError(key) from error
            raise
        # get_object streams in order; download_fileobj would write at absolute offsets.
        shutil.copyfileobj(response["Body"], target, 1 << 20)
        return _info(response)

    def get(self, key: str) -> bytes | None:
        try:
            body: bytes = self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as error:
            if _missing(error):
                return None
            raise
        return body

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        self._client.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType=content_type)

    def upload(self, key: str, source: IO[bytes], *, content_type: str) -> None:
        # Managed transfer: multipart for large outputs, without holding them in memory.
        self._client.upload_fileobj(source, self._bucket, key, ExtraArgs={"ContentType": content_type})

    def head(self, key: str) -> ObjectInfo | None:
        try:
            response = self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if _missing(error):
                return None
            if error_code(error) in _DENIED:
                raise AccessDenied(key) from error
            raise
        return _info(response)

    def read_bounded(self, key: str, *, max_bytes: int, etag: str | None = None) -> bytes:
        # If-Match: the bytes are those of the ETag the run was planned with, or a 412 (Amazon S3 API
        # Reference, "GetObject": If-Match returns the object only if its ETag matches, else 412).
        extra = {"IfMatch": etag} if etag else {}
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=key, **extra)
        except ClientError as error:
            code = error_code(error)
            if _missing(error):
                raise KeyError(key) from error
            if code in _DENIED:
                raise AccessDenied(key) from error
            if code in _CHANGED:
                raise Changed(key) from error
            raise
        body = response["Body"]
        try:
            data: bytes = body.read(max_bytes + 1)
        finally:
            body.close()  # the rest of a too-large object is not downloaded
        return data

    def list(self, prefix: str) -> list[str]:
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), _DELETE_BATCH):
            objects = [{"Key": key} for key in keys[start : start + _DELETE_BATCH]]
            response = self._client.delete_objects(
                Bucket=self._bucket, Delete={"Objects": objects, "Quiet": True}
            )
            if response.get("Errors"):  # reported per key, not raised
                first = response["Errors"][0]
                raise RuntimeError(
                    f"could not delete {len(response['Errors'])} objects, e.g. {first.get('Key')}: "
                    f"{first.get('Code')} {first.get('Message')}"
                )


def _missing(error: ClientError) -> bool:
    return error_code(error) in _MISSING


def _info(response: dict[str, Any]) -> ObjectInfo:
    return ObjectInfo(
        metadata=dict(response.get("Metadata", {})),
        version_id=response.get("VersionId"),
        size=int(response.get("ContentLength", 0)),
        etag=response.get("ETag"),
    )
