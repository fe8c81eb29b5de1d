"""The `image` of a JSONL line: a data URI in the line itself, or an s3:// object of the input's bucket.

Planning reads no image bytes: a data URI is decoded and checked, an s3 object is looked up once
(HeadObject: present, readable, not over the size limit), and its ETag goes into the run's identity,
so overwriting an image and uploading the file again runs it again. The chunk reads the bytes,
bounded and with If-Match on that ETag, so what is embedded is what was planned. Every failure is
an InvalidRequest whose code and message become the line's rejection.

Why the ETag: it "reflects changes only to the contents of an object, not its metadata" (Amazon S3
API Reference, "Object" data type), so the same bytes put again keep the run (nothing re-embedded)
while new bytes make a new one; a VersionId would change on every put, and a digest of the bytes
would mean downloading every image to learn a run id. The ETag of a multipart upload depends on
its part size too: the same bytes uploaded that way may start a new run, which the embeddings
cache (keyed by the bytes' sha256, embedrock.cache) keeps from paying twice.

Images are read only under input/: the ingest role's read grant is input/* already (infra/ingestion.py),
and output/ and work/ hold what the pipeline writes, never what a user asks it to embed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, NoReturn

from embedrock.catalog import CatalogModel
from embedrock.data_uri import decode_image
from embedrock.embed_input import EmbedInput, ImageData, Item, check_image, check_takes_image, sniff_format
from embedrock.errors import InvalidRequest, one_of, shown
from embedrock.ingest.formats import Record
from embedrock.ingest.layout import INPUT_PREFIX
from embedrock.ingest.object_store import AccessDenied, Changed, ObjectInfo, Store

S3_SCHEME = "s3://"
IMAGE_PREFIX = INPUT_PREFIX
WHERE = "image"
# What an image read may hold in memory where the catalog states no size limit for the model
# (Cohere Embed v4, Nova): a bound of this pipeline, not a documented Bedrock limit. It is the
# largest limit the catalog does state (Titan Multimodal G1's 25 MB).
FALLBACK_MAX_IMAGE_BYTES = 25_000_000
# Image bytes a chunk holds at once: its images are read and embedded window by window.
WINDOW_BYTES = 64 * 1024 * 1024
_HEAD_THREADS = 16
# Image file names under input/ are read by the lines that reference them, not ingested themselves.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")

Lookup = ObjectInfo | Literal["missing", "denied"]


@dataclass(frozen=True)
class S3Image:
    key: str

    def uri(self, bucket: str) -> str:
        return f"{S3_SCHEME}{bucket}/{self.key}"


def max_image_bytes(model: CatalogModel) -> int:
    return model.max_image_bytes if model.max_image_bytes is not None else FALLBACK_MAX_IMAGE_BYTES


def parse(value: str, *, bucket: str) -> ImageData | S3Image:
    """A data URI decoded, or the key of an s3:// reference; InvalidRequest if it is neither."""
    if value.startswith("data:"):
        return decode_image(value, WHERE)
    if not value.startswith(S3_SCHEME):
        raise InvalidRequest(
            f"\"image\" is '{shown(value)}'; give a data URI (data:image/png;base64,...) or "
            f"{S3_SCHEME}{bucket}/{IMAGE_PREFIX}KEY.",
            param=WHERE,
            code="invalid_image",
        )
    named, _, key = value[len(S3_SCHEME) :].partition("/")
    if named != bucket:
        raise InvalidRequest(
            f"\"image\" names bucket '{shown(named)}'; images are read from the input file's own "
            f"bucket: {S3_SCHEME}{bucket}/{IMAGE_PREFIX}KEY.",
            param=WHERE,
            code="image_other_bucket",
        )
    if not key.startswith(IMAGE_PREFIX) or key == IMAGE_PREFIX:
        raise InvalidRequest(
            f'"image" is {S3_SCHEME}{bucket}/{shown(key)}; images are read only under '
            f"{S3_SCHEME}{bucket}/{IMAGE_PREFIX}.",
            param=WHERE,
            code="image_key_not_allowed",
        )
    return S3Image(key)


def look_up(store: Store, records: Iterable[Record], model: CatalogModel) -> dict[str, Lookup]:
    """HeadObject of every distinct s3 image the records reference (none for a text-only model)."""
    if "IMAGE" not in model.input_modalities:
        return {}
    keys: set[str] = set()
    for record in records:
        if record.image is not None and record.image.startswith(S3_SCHEME):
            try:
                found = parse(record.image, bucket=store.bucket)
            except InvalidRequest:
                continue  # rejected when the line is checked
            if isinstance(found, S3Image):
                keys.add(found.key)

    def head(key: str) -> Lookup:
        try:
            info = store.head(key)
        except AccessDenied:
            return "denied"
        return "missing" if info is None else info

    with ThreadPoolExecutor(_HEAD_THREADS, thread_name_prefix="image-head") as pool:
        return dict(zip(sorted(keys), pool.map(head, sorted(keys)), strict=True))


def identity(lookups: Mapping[str, Lookup]) -> list[list[str]]:
    """What the run id holds of the images: each key with its ETag (or why it has none)."""
    return [
        [key, found if isinstance(found, str) else (found.etag or f"size {found.size}")]
        for key, found in sorted(lookups.items())
    ]


def plan_record(record: Record, model: CatalogModel, *, bucket: str, lookups: Mapping[str, Lookup]) -> Record:
    """The record with its s3 image's ETag and size, or InvalidRequest why its image cannot be embedded."""
    if record.image is None:
        return record
    check_takes_image(model, with_text=record.text is not None, where="the line", image_where=WHERE)
    found = parse(record.image, bucket=bucket)
    if isinstance(found, ImageData):
        check_image(found, model, where=WHERE)
        return record
    uri = found.uri(bucket)
    looked = lookups.get(found.key, "missing")
    if looked == "missing":
        raise InvalidRequest(
            f'"image" {uri} does not exist (NoSuchKey); upload it, then the file again.',
            param=WHERE,
            code="image_not_found",
        )
    if looked == "denied":
        raise InvalidRequest(
            f'"image" {uri} could not be read: access denied (403).', param=WHERE, code="image_access_denied"
        )
    if looked.size > max_image_bytes(model):
        _too_large(uri, f"{looked.size:,} bytes", model)
    return Record(record.line, record.id, record.text, record.fields, record.image, looked.etag, looked.size)


def read_item(store: Store, record: Record, model: CatalogModel) -> Item:
    """What the chunk embeds for the record: its text, or its text and image with the image's bytes."""
    if record.image is None:
        assert record.text is not None  # a record without an image has a text (formats._record)
        return record.text
    found = parse(record.image, bucket=store.bucket)
    image = found if isinstance(found, ImageData) else _read(store, found, record.image_etag, model)
    check_image(image, model, where=WHERE)
    return EmbedInput(record.text, image)


def _read(store: Store, image: S3Image, etag: str | None, model: CatalogModel) -> ImageData:
    uri, limit = image.uri(store.bucket), max_image_bytes(model)
    try:
        data = store.read_bounded(image.key, max_bytes=limit, etag=etag)
    except KeyError:
        raise InvalidRequest(
            f'"image" {uri} no longer exists (NoSuchKey): it was deleted after the file was planned.',
            param=WHERE,
            code="image_not_found",
        ) from None
    except AccessDenied:
        raise InvalidRequest(
            f'"image" {uri} could not be read: access denied (403).', param=WHERE, code="image_access_denied"
        ) from None
    except Changed:
        raise InvalidRequest(
            f'"image" {uri} was overwritten after the file was planned; upload the file again to embed '
            "the new image.",
            param=WHERE,
            code="image_changed",
        ) from None
    if len(data) > limit:
        _too_large(uri, f"more than {limit:,} bytes", model)
    found = sniff_format(data)
    if found is None:
        raise InvalidRequest(
            f'"image" {uri} is not an image of a known format; {model.id} takes '
            f"{one_of(model.image_formats)} images.",
            param=WHERE,
            code="invalid_image_format",
        )
    return ImageData(found, data)


def _too_large(uri: str, size: str, model: CatalogModel) -> NoReturn:
    raise InvalidRequest(
        f'"image" {uri} is {size}; {model.id} takes images of at most {max_image_bytes(model):,} bytes'
        + ("." if model.max_image_bytes is not None else " (this pipeline's bound; the model states none)."),
        param=WHERE,
        code="image_too_large",
    )


def windows(records: list[Record], indices: Iterable[int]) -> list[list[int]]:
    """The indices in runs whose s3 images add up to at most WINDOW_BYTES (one image alone may be more)."""
    groups: list[list[int]] = [[]]
    held = 0
    for index in indices:
        size = records[index].image_size
        if groups[-1] and held + size > WINDOW_BYTES:
            groups.append([])
            held = 0
        groups[-1].append(index)
        held += size
    return [group for group in groups if group]
