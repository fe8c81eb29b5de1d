"""Local commands print what a person reads, never CloudWatch EMF blobs (no agent reads them)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from embedrock_local import cli
from embedrock_local.runtime import emulator

pytestmark = pytest.mark.integration


def test_ingest_prints_no_metrics_even_when_bedrock_throttles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given an emulator that throttles every third call (each throttle is a metric when metrics are on)
    class Throttling(emulator.Emulator):
        def __init__(self, options: emulator.EmulatorOptions | None = None, /, **kwargs: Any) -> None:
            options = dataclasses.replace(options or emulator.EmulatorOptions(), throttle_every=3)
            super().__init__(options, **kwargs)

    monkeypatch.setattr(emulator, "Emulator", Throttling)
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    (tmp_path / "notes.txt").write_text("".join(f"note number {i}\n" for i in range(1, 7)))

    # When `embedrock ingest` runs on it
    code = cli.main(["ingest", str(tmp_path / "notes.txt"), "--out", str(tmp_path / "out"), "--no-progress"])

    # Then it succeeds (the throttled calls were retried) and printed no EMF line
    out, err = capfd.readouterr()
    assert code == 0, out + err
    assert "complete: 6 of 6 lines embedded" in out
    assert '"_aws"' not in out + err
