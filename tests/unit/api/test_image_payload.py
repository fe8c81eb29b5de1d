"""An image's base64 goes to Bedrock as it arrived (only its header decoded to check it, never
encoded again), strict base64 is still required, and the request's repr never spells out the image."""

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


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_the_byte_count_comes_from_the_base64_length_and_padding(padding: int) -> None:
    data = png()[: 30 + padding]  # lengths 30, 31, 32: no "=", "==" and "=" in base64
    image = ImageData("png", encoded=base64.b64encode(data).decode("ascii"), head=data[:8])
    assert image.byte_count == len(data)


def test_a_jpeg_whose_size_lies_past_the_decoded_head_is_still_measured() -> None:
    # A metadata segment (APP1, as EXIF) of 60 KB before the start of frame.
    app1 = b"\xff\xe1" + (60_002).to_bytes(2, "big") + bytes(60_000)
    picture = jpeg(33, 21)
    padded = picture[:2] + app1 + picture[2:]
    image = decode_image(data_uri(padded, "image/jpeg"), "inputs[0].image")
    assert len(image.head) < len(padded)
    assert pixel_size(image) == (33, 21)


@pytest.mark.parametrize(
    "payload",
    ["iVBOR w0K", "iVBORw0K===", "=iVBORw0K", "iVBORw0K\n", "iVBORw0", "iVB*Rw0K", "iVBOR\u00e9w0"],
    ids=["space", "too much padding", "leading padding", "newline", "missing padding", "star", "non-ASCII"],
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


def test_equal_images_from_base64_hash_and_compare_without_decoding_their_bytes() -> None:
    picture = png(2, 2) + bytes(20_000)  # longer than any decoded header
    one = decode_image(data_uri(picture), "inputs[0].image")
    two = decode_image(data_uri(picture), "inputs[1].image")
    assert one == two and hash(one) == hash(two)
    assert "data" not in vars(one) and "data" not in vars(two)  # the cached full decode never ran


def test_images_alike_in_length_and_first_bytes_are_still_told_apart() -> None:
    start = png(2, 2) + bytes(20_000)
    one = decode_image(data_uri(start + b"\x01"), "inputs[0].image")
    other = decode_image(data_uri(start + b"\x02"), "inputs[1].image")
    assert one != other
    assert len(distinct([EmbedInput(image=one), EmbedInput(image=other), EmbedInput(image=one)]).items) == 2
    assert ImageData("png", start + b"\x01") == one != ImageData("png", start + b"\x02")
