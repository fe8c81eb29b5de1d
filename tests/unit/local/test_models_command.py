"""`embedrock models` and `embedrock models request-access` against the in-process emulator."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from embedrock.errors import InvalidRequest
from embedrock_local.cli import build_parser
from embedrock_local.runtime.emulator import EmulatorOptions, InProcessEmulator
from embedrock_local.tools.models import command

COHERE = "cohere.embed-english-v3"
MULTILINGUAL = "cohere.embed-multilingual-v3"


@pytest.fixture
def emulator() -> InProcessEmulator:
    return InProcessEmulator(EmulatorOptions(require_agreement=["cohere.*"]))


def agreement(emulator: InProcessEmulator, model_id: str) -> str:
    answer = emulator.control_client().get_foundation_model_availability(modelId=model_id)
    status: str = answer["agreementAvailability"]["status"]
    return status


def test_the_listing_names_models_still_needing_an_agreement(
    emulator: InProcessEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert command.list_models(emulator.control_client()) == 0
    out = capsys.readouterr().out
    assert "agreement NOT_AVAILABLE" in out and "ready" in out
    assert f"embedrock models request-access {COHERE} {MULTILINGUAL}" in out


def test_request_access_accepts_the_offer_of_each_model(
    emulator: InProcessEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    # When access is requested for Cohere English (by a profile id of it, too: same model)
    assert command.request_access(emulator.control_client(), [COHERE, f"us.{COHERE}"]) == 0
    # Then its agreement is made once, the terms were shown, and other models are untouched
    assert agreement(emulator, COHERE) == "AVAILABLE" and agreement(emulator, MULTILINGUAL) == "NOT_AVAILABLE"
    assert emulator.stats.calls("CreateFoundationModelAgreement") == 1
    out = capsys.readouterr().out
    assert "terms: https://aws.amazon.com/legal/bedrock/third-party-models/" in out
    # And asking again changes nothing
    assert command.request_access(emulator.control_client(), [COHERE]) == 0
    assert "already AVAILABLE" in capsys.readouterr().out
    assert emulator.stats.calls("CreateFoundationModelAgreement") == 1


def test_a_dry_run_shows_the_terms_and_accepts_nothing(
    emulator: InProcessEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert command.request_access(emulator.control_client(), [COHERE], dry_run=True) == 0
    assert "dry run: no agreement made" in capsys.readouterr().out
    assert agreement(emulator, COHERE) == "NOT_AVAILABLE"
    assert emulator.stats.calls("CreateFoundationModelAgreement") == 0


def test_an_unknown_model_is_refused_before_any_agreement(emulator: InProcessEmulator) -> None:
    with pytest.raises(InvalidRequest) as raised:
        command.request_access(emulator.control_client(), [COHERE, "cohere.embed-v9"])
    assert "allowed values" in raised.value.message and COHERE in raised.value.message
    assert agreement(emulator, COHERE) == "NOT_AVAILABLE"


def test_the_command_line_parses_both_forms() -> None:
    parser = build_parser()
    listing = parser.parse_args(["models", "--provider", "Cohere"])
    assert (listing.command, listing.models_action, listing.provider) == ("models", None, "Cohere")
    request = parser.parse_args(["models", "request-access", COHERE, MULTILINGUAL, "--dry-run"])
    assert (request.models_action, request.model_ids, request.dry_run) == (
        "request-access",
        [COHERE, MULTILINGUAL],
        True,
    )


def test_the_command_reports_errors_in_one_line_without_a_traceback(
    emulator: InProcessEmulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the command talks to the emulator
    monkeypatch.setattr(command, "_control_client", emulator.control_client)
    # When an unknown model is asked for
    code = command.run(build_parser().parse_args(["models", "request-access", "cohere.embed-v9"]))
    # Then it fails with one line naming the allowed values, and no traceback
    err = capsys.readouterr().err
    assert (
        code == 1 and err.startswith("embedrock models: model 'cohere.embed-v9'") and "Traceback" not in err
    )
    # And a listing through the same entry point works
    assert command.run(build_parser().parse_args(["models", "--json"])) == 0
    assert '"requires_inference_profile"' in capsys.readouterr().out


def test_an_unknown_provider_fails_as_get_models_does_naming_the_providers(
    emulator: InProcessEmulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(command, "_control_client", emulator.control_client)
    # When the listing is filtered by a provider with no embedding model
    code = command.run(build_parser().parse_args(["models", "--provider", "nope"]))
    # Then it fails in one line naming the providers there are, not with an empty table
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    assert captured.err.startswith("embedrock models: provider 'nope' has no embedding model")
    assert "Amazon, Cohere" in captured.err
    # And a provider that exists, in any case, lists its models only
    assert command.run(build_parser().parse_args(["models", "--provider", "cohere"])) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert rows and all(
        row.startswith("cohere.") for row in rows if row and not row.startswith(("No ", "Request"))
    )


ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(("dry_run", "dry"), [("1", True), ("0", False), ("", False), (None, False)])
def test_make_model_access_dry_runs_only_with_dry_run_1(dry_run: str | None, dry: bool) -> None:
    # When make shows the command it would run (-n), without building .venv (-o install)
    args = ["make", "-s", "-n", "-o", "install", "model-access", f"MODELS={COHERE}"]
    if dry_run is not None:
        args.append(f"DRY_RUN={dry_run}")
    shown = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=True, timeout=60).stdout
    # Then only DRY_RUN=1 adds --dry-run
    assert f"embedrock models request-access {COHERE}" in shown
    assert ("--dry-run" in shown) is dry
