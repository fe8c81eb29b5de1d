"""`embedrock perf --quick` as a user runs it: every measure runs and reports two timings and a ratio.

No timing is asserted: at quick sizes on a shared machine they mean nothing against the goals.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from embedrock_local.tools.perf.command import MEASURES

pytestmark = pytest.mark.integration


def test_quick_perf_runs_every_measure_and_writes_each_timing_pair(tmp_path: Path) -> None:
    # Given the perf command at quick sizes, writing JSON
    report = tmp_path / "perf.json"
    command = [sys.executable, "-m", "embedrock_local.cli", "perf", "--quick", "--json", str(report)]

    # When it runs as a user runs it
    # (a bound against a hang, not a timing: the first run on a machine also builds cold_import's bundle)
    completed = subprocess.run(command, capture_output=True, text=True, timeout=400, check=False)

    # Then it succeeds and prints the table with a row per measure
    assert completed.returncode == 0, completed.stderr[-3000:]
    table_rows = {
        line.split("|")[1].strip() for line in completed.stdout.splitlines() if line.startswith("| ")
    }
    assert set(MEASURES) <= table_rows, completed.stdout[-3000:]
    # And no CloudWatch EMF blob reached the terminal (the handlers run with metrics disabled)
    assert '"_aws"' not in completed.stdout + completed.stderr
    # And the JSON holds one key per measure, each with the two timings, their ratio and the goal
    results = json.loads(report.read_text())
    assert list(results) == list(MEASURES)
    for name, result in results.items():
        timings = (result["baseline"]["seconds"], result["product"]["seconds"], result["ratio"])
        assert all(isinstance(value, float) and math.isfinite(value) and value > 0 for value in timings), name
        assert result["baseline"]["label"] and result["product"]["label"] and result["goal"], name
        assert isinstance(result["met"], bool), name
    # And dedup's call counts (deterministic, unlike its timings): copies sent once, each as sent before
    dedup = results["dedup"]["details"]
    for case in ("copies", "mix"):
        for side in ("product", "cache_product"):
            assert dedup[case][side]["bedrock_calls"] == dedup[case]["distinct"], (case, side)
        assert dedup[case]["baseline"]["bedrock_calls"] == dedup[case]["inputs"] > dedup[case]["distinct"]
    assert dedup["copies"]["cache_product"]["cache_items_written"] == 1
