"""Images given as data URIs (POST /embeddings `inputs`, the pipeline's `image` lines), decoded once.

A data URI's declared type must be one this service knows and must match the bytes it carries;
bad base64 is an InvalidRequest naming the field. Which model takes which format is checked in
embed_input.check_item, against the catalog.

The syntax is RFC 2397's, `data:[<mediatype>][;base64],<data>` with `<mediatype>` as
`type/subtype *(;parameter)`: media types are case-insensitive (RFC 2045, section 5.1), and
parameters such as `;name=a.png` or `;charset=...` say nothing about the bytes here, so they are
accepted and ignored.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Sequence

from embedrock.embed_input import ImageData, sniff_format
from embedrock.errors import InvalidRequest, one_of, shown

MEDIA_TYPES = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}
KNOWN_FORMATS = tuple(MEDIA_TYPES.values())
# The media type, then its parameters (each `;attribute=value`, none holding `,`), then `;base64,`.
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_HEAD_CHARS = 4 * 1024  # base64 characters decoded up front: 3 KB, past a PNG's IHDR or a plain JPEG's SOF
_DATA_URI = re.compile(r"data:([^;,]*)(?:;[^;,]*)*?;base64,(.*)", re.DOTALL | re.IGNORECASE)


def decode_image(value: str, where: str, *, formats: Sequence[str] = KNOWN_FORMATS) -> ImageData:
    """The image of a data URI. `formats`: those the model takes, named in the messages (every
    format this service knows, where no model is chosen yet)."""
    allowed = one_of(f"image/{name}" for name in formats)
    match = _DATA_URI.fullmatch(value)
    if match is None:
        raise InvalidRequest(
            f"{where} must be a base64 data URI such as data:image/png;base64,iVBORw0...; "
            f"media types: {allowed}.",
            param=where,
            code="invalid_image",
        )
    media_type, payload = match.groups()
    declared = MEDIA_TYPES.get(media_type.strip().lower())
    if declared is None:
        raise InvalidRequest(
            f"{where} is '{shown(media_type)}'; allowed media types: {allowed}.",
            param=where,
            code="invalid_image_format",
        )
    if not _is_canonical_base64(payload):
        raise InvalidRequest(
            f"{where} is not valid base64 after 'base64,'.", param=where, code="invalid_image"
        )
    # Only the first bytes are decoded: enough for the format and the pixel size (image.header).
    head = binascii.a2b_base64(payload[:_HEAD_CHARS])
    found = sniff_format(head)
    if found != declared:
        what = f"{found} image" if found else "not an image this service knows"
        raise InvalidRequest(
            f"{where} says image/{declared} but its bytes are {what}.", param=where, code="invalid_image"
        )
    return ImageData(declared, encoded=payload, head=head)


def _is_canonical_base64(text: str) -> bool:
    """The base64 alphabet only, in groups of 4, with 0 to 2 `=` at the end alone: what
    b64decode(validate=True) takes, checked without decoding (a table lookup per byte)."""
    if len(text) % 4 or not text.isascii():
        return False
    body = text.rstrip("=")
    return len(text) - len(body) <= 2 and not body.encode("ascii").translate(None, _ALPHABET)
