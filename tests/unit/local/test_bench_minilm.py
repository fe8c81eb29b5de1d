"""The minilm engine: loaded from installed files with the network blocked, registered lazily."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from embedrock_local.runtime.emulator import make_engine
from embedrock_local.runtime.emulator.engines.minilm import WIDTH, project
from embedrock_local.tools.bench.target import default_engine

needs_minilm = pytest.mark.skipif(
    default_engine() != "minilm",
    reason="minilm packages not installed (requirements-bench.txt)",
)


def unit(rows: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((rows, WIDTH)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("dimensions", [1024, 1536])
def test_projection_above_384_keeps_every_cosine(dimensions):
    vectors = unit(20)
    projected = project(vectors, dimensions)
    assert projected.shape == (20, dimensions)
    np.testing.assert_allclose(projected @ projected.T, vectors @ vectors.T, atol=1e-5)


def test_projection_below_384_keeps_cosines_approximately_at_unit_length():
    vectors = unit(200)
    projected = project(vectors, 256)
    np.testing.assert_allclose(np.linalg.norm(projected, axis=1), 1.0, atol=1e-9)
    error = np.abs(projected @ projected.T - vectors @ vectors.T)
    assert error.mean() < 0.05


def test_projection_is_the_same_in_every_call_and_identity_at_384():
    vectors = unit(3)
    np.testing.assert_array_equal(project(vectors, 512), project(vectors.copy(), 512))
    np.testing.assert_array_equal(project(vectors, WIDTH), vectors.astype(np.float64))


def test_importing_the_registry_does_not_import_the_engine_dependencies():
    code = (
        "import sys; import embedrock_local.runtime.emulator as e; "
        "assert 'minilm' in e.engines; "
        "assert not {'tokenizers', 'safetensors', 'embedrock_local.runtime.emulator.engines.minilm'} & set(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@needs_minilm
def test_minilm_embeds_offline_with_semantic_neighbours():
    engine = make_engine("minilm")
    assert engine.name == "minilm"
    vectors = engine.embed(
        ["A man is playing a guitar.", "Someone plays the guitar.", "The stock market fell sharply today."],
        1024,
    )
    assert vectors.shape == (3, 1024)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    cosines = vectors @ vectors.T
    assert cosines[0, 1] > 0.7
    assert cosines[0, 2] < 0.2
    # Same text, same vector; any order and batch.
    again = engine.embed(["The stock market fell sharply today."], 1024)
    np.testing.assert_allclose(again[0], vectors[2], atol=1e-6)
