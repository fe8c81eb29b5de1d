"""What one embedding input is: a text (a plain `str`, the fast path), or an `EmbedInput` holding a
text, an image, or both for a model that embeds them into one vector.

Images arrive decoded (the API decodes each data URI once) and are checked here against the
catalog: modality, format, size and pixel dimensions where the model's documentation states them.
Nothing here knows about HTTP.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

import pybase64

from embedrock import catalog
from embedrock.catalog import CatalogModel
from embedrock.errors import InvalidRequest, one_of

# The leading bytes of each format this service accepts.
_MAGIC = {
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "webp": (b"RIFF",),  # then 4 size bytes and b"WEBP", checked in sniff_format
}

# The leading bytes an image's hash covers: past any format's fixed header, into its own data.
_HASHED_HEAD_BYTES = 1024


@dataclass(frozen=True, eq=False)
class ImageData:
    """An image's bytes, and the base64 they arrived as (a data URI's), which is what Bedrock
    takes: sent as it came, never encoded again."""

    format: str  # png, jpeg, gif or webp
    data: bytes = field(repr=False)
    encoded: str | None = field(default=None, repr=False)  # the base64 `data` was decoded from

    @property
    def byte_count(self) -> int:
        return len(self.data)

    @property
    def media_type(self) -> str:
        return f"image/{self.format}"

    def base64(self) -> str:
        if self.encoded is not None:
            return self.encoded
        return pybase64.b64encode(self.data).decode("ascii")

    def data_uri(self) -> str:
        return f"data:{self.media_type};base64,{self.base64()}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImageData):
            return NotImplemented
        return self.format == other.format and self.data == other.data

    def __hash__(self) -> int:
        # Equal images have the same length and first bytes, so these alone make a valid hash,
        # and a cheap one: hashing all of a 500 KB image costs ~0.3 ms per request (a new bytes
        # object each time); images that share them are told apart by __eq__.
        return hash((self.format, len(self.data), self.data[:_HASHED_HEAD_BYTES]))

    def digest(self) -> str:
        """sha256 of the bytes: what stands for the image in cache keys."""
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class EmbedInput:
    """A text, an image, or both (one vector for the pair, where the model takes them jointly)."""

    text: str | None = None
    image: ImageData | None = None


# One input as the Embedder port, the codecs and the cache take it.
Item = str | EmbedInput


def text_of(item: Item) -> str | None:
    return item if isinstance(item, str) else item.text


def image_of(item: Item) -> ImageData | None:
    return None if isinstance(item, str) else item.image


def sniff_format(data: bytes) -> str | None:
    """The image format the bytes really are, from their signature."""
    for name, signatures in _MAGIC.items():
        if data.startswith(signatures) and (name != "webp" or data[8:12] == b"WEBP"):
            return name
    return None


def pixel_size(image: ImageData) -> tuple[int, int] | None:
    """(width, height) read from a PNG or JPEG header; None if unreadable or another format."""
    data = image.data
    if image.format == "png" and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if image.format == "jpeg":
        return _jpeg_size(data)  # after the metadata segments (EXIF can be 64 KB)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    # Walk the marker segments to the first start-of-frame (SOF0..SOF15 but DHT, JPG, DAC).
    at = 2
    while at + 9 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return int(width), int(height)
        at += 2 + length
    return None


def check_items(items: Sequence[Item], model: CatalogModel, *, param: str) -> None:
    """Images the model cannot take are refused, naming the item (`inputs[3].image`)."""
    for index, item in enumerate(items):
        check_item(item, model, where=f"{param}[{index}]", image_where=f"{param}[{index}].image")


def check_item(item: Item, model: CatalogModel, *, where: str, image_where: str) -> None:
    """One input against the model's image facts; `where` names the item, `image_where` its image."""
    image = image_of(item)
    if image is not None:
        check_takes_image(model, with_text=text_of(item) is not None, where=where, image_where=image_where)
        check_image(image, model, where=image_where)


def check_takes_image(model: CatalogModel, *, with_text: bool, where: str, image_where: str) -> None:
    """The model takes an image (and a text with it, if `with_text`): what needs no image bytes."""
    if "IMAGE" not in model.input_modalities:
        takes = [m.id for m in _image_models()]
        raise InvalidRequest(
            f"{image_where}: {model.id} embeds text only; models that take images: {one_of(takes)}.",
            param=image_where,
            code="unsupported_modality",
        )
    if with_text and not model.joint_text_image:
        raise InvalidRequest(
            f"{where} holds a text and an image; {model.id} embeds one or the other per "
            "vector. Send them as two items, or use a model that embeds them jointly: "
            f"{one_of(m.id for m in _image_models() if m.joint_text_image)}.",
            param=where,
            code="unsupported_combination",
        )


def check_image(image: ImageData, model: CatalogModel, *, where: str) -> None:
    """The image's format, bytes and pixels against the model's limits."""
    if image.format not in model.image_formats:
        raise InvalidRequest(
            f"{where} is {image.format}; {model.id} takes {one_of(model.image_formats)} images.",
            param=where,
            code="invalid_image_format",
        )
    if model.max_image_bytes is not None and image.byte_count > model.max_image_bytes:
        raise InvalidRequest(
            f"{where} is {image.byte_count:,} bytes; {model.id} takes images of at most "
            f"{model.max_image_bytes:,} bytes.",
            param=where,
            code="image_too_large",
        )
    if model.max_image_pixels is not None:
        size = pixel_size(image)
        limit = model.max_image_pixels
        if size is not None and (size[0] > limit[0] or size[1] > limit[1]):
            raise InvalidRequest(
                f"{where} is {size[0]}x{size[1]} pixels; {model.id} takes at most {limit[0]}x{limit[1]}.",
                param=where,
                code="image_too_large",
            )


def _image_models() -> list[CatalogModel]:
    return [m for m in catalog.MODELS if "IMAGE" in m.input_modalities]
