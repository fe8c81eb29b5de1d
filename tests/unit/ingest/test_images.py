"""JSONL lines with an `image` through the pipeline: S3 (moto) -> SQS (moto) -> handler -> S3, with
the in-process Bedrock emulator behind the fake runtime (it checks the image bodies as Bedrock does)."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import numpy as np
import pytest
from botocore.stub import Stubber

from embedrock import catalog, wiring
from embedrock.cache import EmbeddingCache
from embedrock.errors import InvalidRequest
from embedrock.ingest import images
from embedrock.ingest.formats import Record, Rejection, read_items
from embedrock.ingest.layout import Format
from embedrock.ingest.object_store import AccessDenied, Changed, S3Store
from tests.fakes import FakeBedrockRuntime
from tests.fixtures.images import data_uri, gif, jpeg, png
from tests.fixtures.ingest.harness import BUCKET, CACHE_TABLE, IngestAws, create_cache_table, ingest_aws

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TITAN_MM = "amazon.titan-embed-image-v1"
COHERE_V4 = "cohere.embed-v4:0"
NOVA = "amazon.nova-2-multimodal-embeddings-v1:0"
TITAN_V2 = "amazon.titan-embed-text-v2:0"
IMAGE_MODELS = [m.id for m in catalog.MODELS if "IMAGE" in m.input_modalities]


def s3(key: str, bucket: str = BUCKET) -> str:
    return f"s3://{bucket}/{key}"


def jsonl(*lines: dict[str, Any]) -> str:
    return "".join(json.dumps(line) + "\n" for line in lines)


def upload(aws: IngestAws, name: str, *lines: dict[str, Any], model: str = TITAN_MM) -> dict[str, Any]:
    """Uploads input/<name> for `model`, processes the queue, returns the manifest."""
    aws.upload(f"input/{name}", jsonl(*lines), metadata={"model": model})
    responses = aws.deliver()
    assert all(response["batchItemFailures"] == [] for response in responses)
    return aws.manifest(name)


def codes(manifest: dict[str, Any]) -> dict[int, str]:
    return {rejection["line"]: rejection["code"] for rejection in manifest["rejected"]}


def images_sent(bedrock: FakeBedrockRuntime) -> list[bytes]:
    """The image bytes of every call, whatever the model's request shape."""
    found = []
    for _, body in bedrock.calls:
        if "inputImage" in body:
            found.append(base64.b64decode(body["inputImage"]))
        for item in body.get("inputs", []):
            for part in item["content"]:
                if part["type"] == "image_url":
                    found.append(base64.b64decode(part["image_url"].split(",", 1)[1]))
        nova = body.get("singleEmbeddingParams", {}).get("image")
        if nova is not None:
            found.append(base64.b64decode(nova["source"]["bytes"]))
    return found


# --- reading lines ----------------------------------------------------------------------------


def test_a_jsonl_line_may_hold_an_image_with_or_without_a_text() -> None:
    lines = jsonl(
        {"id": "a", "image": "data:image/png;base64,AAAA", "tag": "x"},
        {"id": "b", "text": "a cat", "image": "s3://b/input/cat.png"},
        {"id": "c"},
        {"id": "d", "image": 7},
    )
    found = list(read_items(Format.JSONL, io.BytesIO(lines.encode())))
    assert found[0] == Record(1, "a", None, {"tag": "x"}, "data:image/png;base64,AAAA")
    assert found[1] == Record(2, "b", "a cat", {}, "s3://b/input/cat.png")
    assert isinstance(found[2], Rejection) and found[2].code == "missing_text"
    assert 'no "text" field nor an "image"' in found[2].reason
    assert isinstance(found[3], Rejection) and found[3].code == "invalid_image"
    assert "not number" in found[3].reason


def test_a_csv_image_column_stays_an_ordinary_field() -> None:
    found = list(read_items(Format.CSV, io.BytesIO(b"id,text,image\n1,hello,cat.png\n")))
    assert found == [Record(2, "1", "hello", {"image": "cat.png"})]


def test_a_record_with_an_image_survives_its_chunk_file() -> None:
    record = Record(3, "x", None, {"k": 1}, "s3://b/input/a.png", '"etag"', 42)
    assert Record.from_json(record.to_json()) == record
    plain = Record(4, "y", "text", {})
    assert Record.from_json(plain.to_json()) == plain


# --- embedding through the pipeline -------------------------------------------------------------


@pytest.mark.parametrize("model", IMAGE_MODELS)
def test_each_image_model_embeds_data_uri_and_s3_images_and_keeps_the_references(
    aws: IngestAws, bedrock: FakeBedrockRuntime, model: str
) -> None:
    # Given an image under input/ and a file naming it, the same bytes as a data URI, and a text
    picture = png(4, 4, shade=90)
    aws.upload("input/pics/a.png", picture)
    given = [
        {"id": "uri", "image": data_uri(picture)},
        {"id": "s3", "image": s3("input/pics/a.png"), "tag": "kept"},
        {"id": "jpeg", "image": data_uri(jpeg(), "image/jpeg")},
        {"id": "text", "text": "a grey square"},
    ]
    # When the file is processed with the model
    manifest = upload(aws, "pics.jsonl", *given, model=model)
    # Then every line is embedded, at the model's default dimensions
    entry = catalog.find(model)
    assert entry is not None
    assert (manifest["status"], manifest["model"], manifest["counts"]["embedded"]) == ("complete", model, 4)
    rows = {row["id"]: row for row in aws.output("pics.jsonl")}
    assert all(len(row["embedding"]) == entry.default_dimensions for row in rows.values())
    # And the output keeps each image reference as given (never the bytes), and the other fields
    assert rows["s3"]["image"] == s3("input/pics/a.png") and rows["s3"]["tag"] == "kept"
    assert rows["uri"]["image"] == data_uri(picture)
    assert "image" not in rows["text"]
    # And the s3 object's bytes are what was embedded: the same vector as the same bytes inline
    np.testing.assert_allclose(rows["s3"]["embedding"], rows["uri"]["embedding"], rtol=1e-6)
    assert not np.allclose(rows["uri"]["embedding"], rows["text"]["embedding"])
    # (the s3 line and the inline one hold the same bytes: one input, embedded once and billed once)
    assert sorted(images_sent(bedrock)) == sorted([picture, jpeg()])
    assert manifest["input_images"] == 2
    # And the image's own upload under input/ was not taken for a data file
    assert aws.keys("output/pics/") == []


@pytest.mark.parametrize("model", [m.id for m in catalog.MODELS if m.joint_text_image])
def test_joint_models_embed_a_text_and_an_image_into_one_vector(
    aws: IngestAws, bedrock: FakeBedrockRuntime, model: str
) -> None:
    aws.upload("input/cat.png", png(shade=3))
    manifest = upload(
        aws,
        "joint.jsonl",
        {"id": "both", "text": "a cat", "image": s3("input/cat.png")},
        {"id": "image", "image": s3("input/cat.png")},
        {"id": "text", "text": "a cat"},
        model=model,
    )
    assert manifest["counts"]["embedded"] == 3
    rows = {row["id"]: row["embedding"] for row in aws.output("joint.jsonl")}
    assert not np.allclose(rows["both"], rows["image"]) and not np.allclose(rows["both"], rows["text"])


def test_each_bad_image_is_its_own_rejection_and_no_line_is_dropped(
    aws: IngestAws, bedrock: FakeBedrockRuntime
) -> None:
    aws.upload("input/pics/notes.png", b"these are not the bytes of an image")
    aws.upload("input/pics/ok.png", png())
    manifest = upload(
        aws,
        "bad.jsonl",
        {"id": 1, "image": "data:image/png;base64,@@not base64@@"},
        {"id": 2, "image": "data:image/bmp;base64,Qk0="},
        {"id": 3, "image": s3("input/pics/ok.png", bucket="someone-elses-bucket")},
        {"id": 4, "image": s3("output/bad.jsonl.jsonl")},
        {"id": 5, "image": s3("input/pics/missing.png")},
        {"id": 6, "image": s3("input/pics/notes.png")},
        {"id": 7, "image": data_uri(gif(), "image/gif")},  # Titan takes PNG and JPEG
        {"id": 8, "image": "https://example.com/cat.png"},
        {"id": 9, "image": s3("input/pics/ok.png")},
    )
    assert codes(manifest) == {
        1: "invalid_image",
        2: "invalid_image_format",
        3: "image_other_bucket",
        4: "image_key_not_allowed",
        5: "image_not_found",
        6: "invalid_image_format",
        7: "invalid_image_format",
        8: "invalid_image",
    }
    counts = manifest["counts"]
    assert counts["lines"] == 9 == counts["embedded"] + counts["rejected"]
    reasons = {rejection["line"]: rejection["reason"] for rejection in manifest["rejected"]}
    assert "'someone-elses-bucket'" in reasons[3] and f"s3://{BUCKET}/input/" in reasons[3]
    assert "NoSuchKey" in reasons[5]
    assert "png, jpeg" in reasons[7]
    assert [row["id"] for row in aws.output("bad.jsonl")] == [9]


def test_a_text_only_model_rejects_image_lines_naming_the_models_that_take_them(
    aws: IngestAws, bedrock: FakeBedrockRuntime
) -> None:
    manifest = upload(
        aws,
        "mixed.jsonl",
        {"id": 1, "image": data_uri(png())},
        {"id": 2, "text": "words"},
        model=TITAN_V2,
    )
    assert codes(manifest) == {1: "unsupported_modality"}
    assert all(model in manifest["rejected"][0]["reason"] for model in IMAGE_MODELS)
    assert images_sent(bedrock) == []


def test_nova_rejects_a_text_and_an_image_on_one_line(aws: IngestAws, bedrock: FakeBedrockRuntime) -> None:
    manifest = upload(aws, "nova.jsonl", {"id": 1, "text": "cat", "image": data_uri(png())}, model=NOVA)
    assert codes(manifest) == {1: "unsupported_combination"}


def test_an_image_over_the_limit_is_rejected_from_its_size_alone(
    aws: IngestAws, bedrock: FakeBedrockRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Nova (no size in the catalog: the pipeline's bound applies), made small for the test
    monkeypatch.setattr(images, "FALLBACK_MAX_IMAGE_BYTES", 100)
    big = png() + b"\0" * 500
    aws.upload("input/big.png", big)
    manifest = upload(aws, "big.jsonl", {"id": 1, "image": s3("input/big.png")}, model=NOVA)
    # Then the line is rejected with the object's size from HeadObject, and nothing is embedded
    assert codes(manifest) == {1: "image_too_large"}
    assert f"{len(big):,} bytes" in manifest["rejected"][0]["reason"]
    assert bedrock.calls == []


def test_titan_multimodal_refuses_an_s3_image_over_its_catalog_pixels(
    aws: IngestAws, bedrock: FakeBedrockRuntime
) -> None:
    # Given an image wider than Titan Multimodal's 2048 pixels (catalog max_image_pixels), read from S3
    aws.upload("input/wide.png", png(2049, 1))
    aws.upload("input/fits.png", png(2048, 1))
    manifest = upload(
        aws, "wide.jsonl", {"id": 1, "image": s3("input/wide.png")}, {"id": 2, "image": s3("input/fits.png")}
    )
    assert codes(manifest) == {1: "image_too_large"}
    assert "2049x1 pixels" in manifest["rejected"][0]["reason"]
    assert images_sent(bedrock) == [png(2048, 1)]


# --- run identity -------------------------------------------------------------------------------


def test_an_overwritten_image_makes_the_same_file_run_again(
    aws: IngestAws, bedrock: FakeBedrockRuntime
) -> None:
    # Given a file naming an s3 image, processed once
    aws.upload("input/a.png", png(shade=1))
    line = {"id": 1, "image": s3("input/a.png")}
    first = upload(aws, "one.jsonl", line)
    before = aws.output("one.jsonl")[0]["embedding"]
    # When the same file is uploaded again, the image unchanged: nothing runs again
    calls = len(bedrock.calls)
    assert upload(aws, "one.jsonl", line)["run_id"] == first["run_id"]
    assert len(bedrock.calls) == calls
    # When the image is overwritten and the same file uploaded again
    aws.upload("input/a.png", png(shade=200))
    second = upload(aws, "one.jsonl", line)
    # Then it is a new run, which embedded the new bytes
    assert second["run_id"] != first["run_id"]
    assert images_sent(bedrock)[-1] == png(shade=200)
    assert not np.allclose(aws.output("one.jsonl")[0]["embedding"], before)


def test_an_image_overwritten_after_planning_is_rejected_not_embedded(aws: IngestAws) -> None:
    store = S3Store(aws.s3, BUCKET)
    aws.upload("input/a.png", png(shade=1))
    head = store.head("input/a.png")
    assert head is not None and head.etag
    aws.upload("input/a.png", png(shade=2))
    record = Record(1, 1, None, {}, s3("input/a.png"), head.etag, head.size)
    model = catalog.find(TITAN_MM)
    assert model is not None
    with pytest.raises(InvalidRequest) as raised:
        images.read_item(store, record, model)
    assert raised.value.code == "image_changed"


# --- S3 answers moto does not give --------------------------------------------------------------


@pytest.fixture
def stubbed() -> tuple[S3Store, Stubber]:
    import boto3

    client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    return S3Store(client, BUCKET), Stubber(client)


def test_access_denied_and_changed_are_told_apart_from_a_missing_object(
    stubbed: tuple[S3Store, Stubber],
) -> None:
    store, stub = stubbed
    stub.add_client_error("head_object", service_error_code="403", http_status_code=403)
    stub.add_client_error("get_object", service_error_code="AccessDenied", http_status_code=403)
    stub.add_client_error("get_object", service_error_code="PreconditionFailed", http_status_code=412)
    stub.add_client_error("get_object", service_error_code="NoSuchKey", http_status_code=404)
    with stub:
        with pytest.raises(AccessDenied):
            store.head("input/a.png")
        with pytest.raises(AccessDenied):
            store.read_bounded("input/a.png", max_bytes=10)
        with pytest.raises(Changed):
            store.read_bounded("input/a.png", max_bytes=10, etag='"old"')
        with pytest.raises(KeyError):
            store.read_bounded("input/a.png", max_bytes=10)


def test_a_denied_image_is_rejected_as_access_denied() -> None:
    model = catalog.find(TITAN_MM)
    assert model is not None
    record = Record(1, 1, None, {}, s3("input/secret.png"))
    with pytest.raises(InvalidRequest) as raised:
        images.plan_record(record, model, bucket=BUCKET, lookups={"input/secret.png": "denied"})
    assert (raised.value.code, "access denied" in raised.value.message) == ("image_access_denied", True)


def test_a_bounded_read_never_reads_past_the_limit(aws: IngestAws) -> None:
    aws.upload("input/big.png", png() + b"\0" * 5000)
    data = S3Store(aws.s3, BUCKET).read_bounded("input/big.png", max_bytes=100)
    assert len(data) == 101


def test_windows_bound_the_image_bytes_a_chunk_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "WINDOW_BYTES", 100)
    records = [
        Record(i, i, None, {}, "s3://b/input/x.png", '"e"', size)
        for i, size in enumerate([60, 60, 30, 200, 1])
    ]
    assert images.windows(records, range(5)) == [[0], [1, 2], [3], [4]]
    texts = [Record(i, i, "t", {}) for i in range(3)]
    assert images.windows(texts, range(3)) == [[0, 1, 2]]


def test_the_cache_keys_an_image_by_its_bytes_wherever_it_comes_from(bedrock: FakeBedrockRuntime) -> None:
    with ingest_aws() as aws:
        wiring.override(cache=EmbeddingCache(create_cache_table(), CACHE_TABLE, ttl_days=30))
        # Given an s3 image embedded once
        aws.upload("input/a.png", png(shade=5))
        upload(aws, "one.jsonl", {"id": 1, "image": s3("input/a.png")})
        calls = len(bedrock.calls)
        # When the same bytes come inline in another file, Then the cache answers: no second charge
        second = upload(aws, "two.jsonl", {"id": 1, "image": data_uri(png(shade=5))})
        assert (second["counts"]["cache_hits"], len(bedrock.calls)) == (1, calls)
        # When the s3 object is overwritten and the first file uploaded again, Then the new bytes are paid for
        aws.upload("input/a.png", png(shade=6))
        third = upload(aws, "one.jsonl", {"id": 1, "image": s3("input/a.png")})
        assert third["counts"]["cache_hits"] == 0 and images_sent(bedrock)[-1] == png(shade=6)


def test_the_manifest_bills_each_embedded_image_at_the_models_price(
    aws: IngestAws, bedrock: FakeBedrockRuntime
) -> None:
    # Given Titan Multimodal, priced per input image on top of its text tokens
    model = catalog.find(TITAN_MM)
    assert model is not None and model.price_per_image is not None
    aws.upload("input/cat.png", png(shade=7))
    # When a file embeds two image lines and a text line, and one line is rejected
    manifest = upload(
        aws,
        "billed.jsonl",
        {"id": "a", "image": s3("input/cat.png")},
        {"id": "b", "text": "a cat", "image": data_uri(png(shade=8))},
        {"id": "c", "text": "a dog"},
        {"id": "d", "image": "data:image/png;base64,not-base64"},
    )
    # Then the two embedded images are billed, with the tokens Bedrock counted
    assert manifest["counts"]["embedded"] == 3 and manifest["input_images"] == 2
    tokens_usd = manifest["input_tokens"] * model.price_per_million_tokens / 1e6
    assert manifest["cost_usd"] == pytest.approx(tokens_usd + 2 * model.price_per_image, rel=1e-6)
