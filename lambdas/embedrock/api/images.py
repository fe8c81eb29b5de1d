"""Images of POST /embeddings `inputs`, decoded once from their data URIs.

A data URI's declared type must be one this service knows and must match the bytes it carries;
bad base64 is a 400 naming the item. Which model takes which format is checked in the core
(embed_input.check_items), against the catalog.
"""

from __future__ import annotations

import base64
import binascii
import re

from embedrock.embed_input import ImageData, sniff_format
from embedrock.errors import InvalidRequest, one_of, shown

MEDIA_TYPES = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}
_DATA_URI = re.compile(r"data:([^;,]*);base64,(.*)", re.DOTALL)


def decode_image(value: str, where: str) -> ImageData:
    match = _DATA_URI.fullmatch(value)
    if match is None:
        raise InvalidRequest(
            f"{where} must be a base64 data URI such as data:image/png;base64,iVBORw0...; "
            f"media types: {one_of(MEDIA_TYPES)}.",
            param=where,
            code="invalid_image",
        )
    media_type, payload = match.groups()
    if media_type not in MEDIA_TYPES:
        raise InvalidRequest(
            f"{where} is '{shown(media_type)}'; allowed media types: {one_of(MEDIA_TYPES)}.",
            param=where,
            code="invalid_image_format",
        )
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(
            f"{where} is not valid base64 after 'base64,'.", param=where, code="invalid_image"
        ) from None
    declared, found = MEDIA_TYPES[media_type], sniff_format(data)
    if found != declared:
        what = f"{found} image" if found else "not an image this service knows"
        raise InvalidRequest(
            f"{where} says {media_type} but its bytes are {what}.", param=where, code="invalid_image"
        )
    return ImageData(declared, data)
