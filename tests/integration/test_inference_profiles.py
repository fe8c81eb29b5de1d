"""Inference profiles and model access end to end: boto3 and the local gateway against the emulator
over loopback HTTP, and `embedrock models` in its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import boto3
import numpy as np
import pytest
import requests

from embedrock_local.environment import emulator_environment
from embedrock_local.runtime.emulator import EmulatorOptions
from embedrock_local.runtime.serve import LocalRuntime

TITAN_V2 = "amazon.titan-embed-text-v2:0"
US_TITAN = f"us.{TITAN_V2}"
TITAN_V1 = "amazon.titan-embed-text-v1"
MULTILINGUAL = "cohere.embed-multilingual-v3"
MODELS = [sys.executable, "-m", "embedrock_local.cli", "models"]


@pytest.fixture(scope="module")
def served() -> Iterator[LocalRuntime]:
    options = EmulatorOptions(
        profiles=[US_TITAN, f"us.{TITAN_V1}"], profile_only=[TITAN_V1], require_agreement=[MULTILINGUAL]
    )
    with LocalRuntime(containers=1, emulator_options=options) as runtime:
        yield runtime


def emulator_url(runtime: LocalRuntime) -> str:
    assert runtime.emulator is not None
    return runtime.emulator.url


def test_boto3_invokes_through_a_us_profile_id(served: LocalRuntime) -> None:
    # Given a real boto3 client on the emulator's endpoint
    client = boto3.client(
        "bedrock-runtime",
        endpoint_url=emulator_url(served),
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    # When Titan V2 is invoked through its US profile id (dots and a colon in the URL path)
    response = client.invoke_model(
        modelId=US_TITAN, body=json.dumps({"inputText": "hello", "dimensions": 256})
    )
    vector = json.loads(response["body"].read())["embedding"]
    # Then it answers as the model does
    assert len(vector) == 256 and np.linalg.norm(vector) == pytest.approx(1.0)


def test_the_gateway_embeds_through_a_profile_and_lists_it(served: LocalRuntime) -> None:
    # When an embedding is asked through the profile, over HTTP
    response = requests.post(
        f"{served.url}/embeddings",
        json={"model": US_TITAN, "texts": ["a", "b"], "dimensions": 512},
        timeout=30,
    )
    # Then the profile id is echoed and the model's vectors come back
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == US_TITAN and [len(v) for v in body["embeddings"]] == [512, 512]
    # And the profile-only model's own id is a 400 naming the way out
    bare = requests.post(f"{served.url}/embeddings", json={"model": TITAN_V1, "text": "a"}, timeout=30)
    assert bare.status_code == 400 and "inference profile" in bare.json()["error"]["message"]
    # And GET /models and GET /models/{profile id} show the profile and the access
    listed = {m["id"]: m for m in requests.get(f"{served.url}/models", timeout=30).json()["models"]}
    assert US_TITAN in [p["id"] for p in listed[TITAN_V2]["inference_profiles"]]
    assert listed[TITAN_V1]["requires_inference_profile"] and listed[TITAN_V1]["supported"]
    assert listed[TITAN_V2]["access"]["ready"] is True
    one = requests.get(f"{served.url}/models/{US_TITAN}", timeout=30)
    assert one.status_code == 200 and one.json()["id"] == TITAN_V2


def test_the_access_command_requests_the_agreement_over_http(served: LocalRuntime) -> None:
    # Given `embedrock models` pointed at the emulator (dummy credentials, nothing reaches AWS)
    env = os.environ | emulator_environment(emulator_url(served))

    def run(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*MODELS, *arguments], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    # When the listing is read, the multilingual model still needs its agreement
    listing = run()
    assert listing.returncode == 0, listing.stderr
    assert f"embedrock models request-access {MULTILINGUAL}" in listing.stdout
    # When a dry run, then the request, are made
    dry = run("request-access", MULTILINGUAL, "--dry-run")
    assert dry.returncode == 0 and "dry run: no agreement made" in dry.stdout
    done = run("request-access", MULTILINGUAL)
    assert done.returncode == 0, done.stderr
    assert "agreement requested" in done.stdout
    # Then the model is ready, and the embedding call that was denied now works
    assert "request-access" not in run().stdout
    response = requests.post(
        f"{served.url}/embeddings", json={"model": MULTILINGUAL, "text": "hola"}, timeout=30
    )
    assert response.status_code == 200, response.text
    # And an unknown model is refused with the allowed values, in one line
    unknown = run("request-access", "cohere.embed-v9")
    assert (
        unknown.returncode == 1 and "allowed values" in unknown.stderr and "Traceback" not in unknown.stderr
    )
