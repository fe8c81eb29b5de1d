"""The locks (`make lock`) agree with each other and with their inputs, and hash every pin."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[3]
LAMBDA_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
MINILM_LOCK = ROOT / "requirements-minilm.lock"
LOCKS = (LAMBDA_LOCK, DEV_LOCK, MINILM_LOCK)
# Each lock and the input `make lock` compiles it from (the dev input includes the others).
INPUTS = {
    LAMBDA_LOCK: ROOT / "requirements.txt",
    DEV_LOCK: ROOT / "requirements-dev.txt",
    MINILM_LOCK: ROOT / "requirements-minilm.txt",
}
PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>\S+?)(?P<marker> ;[^\\]*)?\s*\\?$"
)
HASH = re.compile(r"^\s+--hash=sha256:[0-9a-f]{64}\s*\\?$")


@dataclass(frozen=True)
class Pin:
    version: str
    marker: str
    hashes: int


def read_lock(path: Path) -> dict[str, Pin]:
    """A lock's pins by canonical name; fails on a line that is neither a pin, a hash nor a comment."""
    pins: dict[str, Pin] = {}
    current: str | None = None
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if HASH.match(line):
            assert current is not None, f"{path.name}:{number}: a hash before any pin"
            pin = pins[current]
            pins[current] = Pin(pin.version, pin.marker, pin.hashes + 1)
            continue
        match = PIN.match(line)
        assert match, f"{path.name}:{number}: not a hashed pin (name==version): {line!r}"
        current = canonicalize_name(match["name"])
        assert current not in pins, f"{path.name}:{number}: {current} pinned twice"
        pins[current] = Pin(match["version"], (match["marker"] or "").strip(" ;"), 0)
    return pins


def read_input(path: Path) -> list[Requirement]:
    """The requirements a requirements*.txt names itself (not its -r includes or the -e project)."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


@pytest.fixture(scope="module")
def locks() -> dict[Path, dict[str, Pin]]:
    return {path: read_lock(path) for path in LOCKS}


@pytest.mark.parametrize("lock", LOCKS, ids=lambda path: path.name)
def test_every_pin_has_a_hash(locks: dict[Path, dict[str, Pin]], lock: Path) -> None:
    # Given a lock
    pins = locks[lock]
    # Then it pins something, and every pin lists at least one sha256 (pip --require-hashes needs it)
    assert pins
    assert [name for name, pin in pins.items() if pin.hashes == 0] == []


def test_runtime_packages_have_the_lambda_versions_in_dev(locks: dict[Path, dict[str, Pin]]) -> None:
    # Given the Lambda lock and the dev lock
    lambda_pins, dev_pins = locks[LAMBDA_LOCK], locks[DEV_LOCK]
    # Then every package the Lambda ships is tested at the same version
    assert {name: pin.version for name, pin in lambda_pins.items()} == {
        name: dev_pins[name].version if name in dev_pins else "missing from the dev lock"
        for name in lambda_pins
    }


def test_the_lambda_lock_has_no_environment_markers(locks: dict[Path, dict[str, Pin]]) -> None:
    # The bundler's pip evaluates a marker against the build machine's interpreter, not against the
    # Lambda platform, so a marker could ship (or drop) the wrong package.
    assert {name: pin.marker for name, pin in locks[LAMBDA_LOCK].items() if pin.marker} == {}


@pytest.mark.parametrize("lock", LOCKS, ids=lambda path: path.name)
def test_every_input_requirement_is_locked_within_its_range(
    locks: dict[Path, dict[str, Pin]], lock: Path
) -> None:
    # Given the requirements the lock was compiled from
    pins = locks[lock]
    # Then each is in the lock at a version it allows: an edited input with no `make lock` fails here
    unmet = {}
    for requirement in read_input(INPUTS[lock]):
        pin = pins.get(canonicalize_name(requirement.name))
        if pin is None or not requirement.specifier.contains(pin.version, prereleases=True):
            unmet[str(requirement)] = pin.version if pin else "not locked"
    assert unmet == {}


def test_the_dev_lock_holds_the_bench_requirements_and_the_lock_tools(
    locks: dict[Path, dict[str, Pin]],
) -> None:
    # Given what requirements-dev.txt includes besides itself
    included = read_input(ROOT / "requirements-bench.txt")
    # Then the dev lock has them, and uv (make lock) and setuptools (the editable install)
    names = {canonicalize_name(requirement.name) for requirement in included} | {"uv", "setuptools"}
    assert names - set(locks[DEV_LOCK]) == set()
