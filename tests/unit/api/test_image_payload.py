"""An image's base64 goes to Bedrock as it arrived (decoded once to check it, never encoded
again), strict base64 is still required, and the request's repr never spells out the image."""

from __future__ import annotations

import base64

import pytest

from embedrock.api.schemas import InputItem
from embedrock.bedrock.distinct import distinct
from embedrock.data_uri import decode_image
from embedrock.embed_input import EmbedInput, ImageData, pixel_size
from embedrock.errors import InvalidRequest
from tests.fixtures.images import data_uri, jpeg, png


def test_a_data_uri_image_keeps_its_base64_for_the_bedrock_body() -> None:
    encoded = base64.b64encode(png(4, 3)).decode("ascii")
    image = decode_image(f"data:image/png;base64,{encoded}", "inputs[0].image")
    assert image.data == png(4, 3)
    assert image.base64() == encoded
    assert image.data_uri() == f"data:image/png;base64,{encoded}"


def test_an_image_made_from_bytes_is_encoded_when_sent() -> None:
    assert ImageData("png", png()).base64() == base64.b64encode(png()).decode("ascii")


def test_an_image_from_base64_is_the_image_of_its_bytes() -> None:
    image = decode_image(data_uri(png(40, 30, shade=5)), "inputs[0].image")
    from_bytes = ImageData("png", png(40, 30, shade=5))
    assert image == from_bytes and hash(image) == hash(from_bytes)
    assert image.byte_count == len(png(40, 30, shade=5)) == from_bytes.byte_count
    assert pixel_size(image) == pixel_size(from_bytes) == (40, 30)
    assert image.digest() == from_bytes.digest()
    assert image != ImageData("png", png(40, 30, shade=6))


def test_a_jpeg_whose_size_lies_past_the_decoded_head_is_still_measured() -> None:
    # A metadata segment (APP1, as EXIF) of 60 KB before the start of frame.
    app1 = b"\xff\xe1" + (60_002).to_bytes(2, "big") + bytes(60_000)
    picture = jpeg(33, 21)
    padded = picture[:2] + app1 + picture[2:]
    image = decode_image(data_uri(padded, "image/jpeg"), "inputs[0].image")
    assert pixel_size(image) == (33, 21)


@pytest.mark.parametrize(
    "payload",
    [
        "iVBOR w0K",
        "iVBORw0K===",
        "=iVBORw0K",
        "iVB=Rw0K",
        "iVBORw0K\n",
        "iVBORw0",
        "iVB*Rw0K",
        "iVBOR\u00e9w0",
        "iVBOR\U0001f600w0",
        "iVB-Rw_K",
    ],
    ids=[
        "space",
        "too much padding",
        "leading padding",
        "padding inside",
        "newline",
        "missing padding",
        "star",
        "non-ASCII",
        "beyond Latin-1",
        "URL-safe alphabet",
    ],
)
def test_base64_that_is_not_strict_is_a_400_naming_the_field(payload: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        decode_image(f"data:image/png;base64,{payload}", "inputs[2].image")
    assert raised.value.param == "inputs[2].image"
    assert "base64" in str(raised.value)


def test_the_repr_of_an_input_leaves_the_image_out() -> None:
    uri = "data:image/png;base64," + base64.b64encode(png(64, 64)).decode("ascii")
    item = InputItem(text="a cat", image=uri)
    assert "a cat" in repr(item)
    assert "base64" not in repr(item) and item.image == uri


def test_images_alike_in_length_and_first_bytes_are_still_told_apart() -> None:
    start = png(2, 2) + bytes(20_000)
    one = decode_image(data_uri(start + b"\x01"), "inputs[0].image")
    other = decode_image(data_uri(start + b"\x02"), "inputs[1].image")
    assert one != other
    assert len(distinct([EmbedInput(image=one), EmbedInput(image=other), EmbedInput(image=one)]).items) == 2
    assert ImageData("png", start + b"\x01") == one != ImageData("png", start + b"\x02")
