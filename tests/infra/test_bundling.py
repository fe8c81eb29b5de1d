"""The Lambda bundle: installed from the Lambda lock with hashes, compiled for the runtime's Python.

Offline: pip never runs here (a fake stands in for it); the runtime's Python (python3.13, or
$EMBEDROCK_BUNDLE_PYTHON) does, to compile the bytecode.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from embedrock_local.tools.perf import cold_import
from infra import bundling

pytestmark = pytest.mark.infra

# The flags word of a .pyc (PEP 552): bit 0 set = hash-based, bit 1 set = checked against the source.
UNCHECKED_HASH_FLAGS = 0b01


@pytest.fixture(scope="module")
def runtime_python() -> str:
    # Not skipped when missing: the bundle cannot be built without it either.
    return bundling.bundle_python()


@pytest.fixture(scope="module")
def runtime_magic(runtime_python: str) -> bytes:
    result = subprocess.run(
        [runtime_python, "-c", "import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())"],
        capture_output=True,
        text=True,
        check=True,
        env=dict(bundling._python_env()),
    )
    return bytes.fromhex(result.stdout.strip())


def pyc_header(path: Path) -> tuple[bytes, int]:
    header = path.read_bytes()[:8]
    return header[:4], int.from_bytes(header[4:8], "little")


def test_runtime_is_python_3_13_on_arm64() -> None:
    # The suite's Lambda-Python venv and the bytecode both follow this runtime
    assert bundling.RUNTIME.name == "python3.13"
    assert bundling.ARCHITECTURE.name == "arm64"
    assert (bundling.PYTHON_VERSION, bundling.CACHE_TAG) == ("3.13", "cpython-313")


def test_pip_installs_the_lambda_lock_with_hashes_for_the_lambda_platform(tmp_path: Path) -> None:
    # Given the bundler's pip command
    command = bundling.pip_command(tmp_path)
    # Then it installs the Lambda lock, checking every hash, wheels only, for cp313 on arm64 Linux
    assert command[command.index("--requirement") + 1] == str(bundling.ROOT / "requirements.lock")
    assert "--require-hashes" in command
    assert "requirements.txt" not in " ".join(command)
    assert command[command.index("--target") + 1] == str(tmp_path)
    assert command[command.index("--python-version") + 1] == "3.13"
    assert command[command.index("--implementation") + 1] == "cp"
    assert "--only-binary=:all:" in command and "--no-compile" in command
    platforms = {command[index + 1] for index, argument in enumerate(command) if argument == "--platform"}
    # Amazon Linux 2023's glibc 2.34 and every older manylinux level, none newer
    assert {"manylinux2014_aarch64", "manylinux_2_17_aarch64", "manylinux_2_28_aarch64"} <= platforms
    assert "manylinux_2_34_aarch64" in platforms and "manylinux_2_35_aarch64" not in platforms
    assert all(platform.endswith("_aarch64") for platform in platforms)


def test_fingerprint_changes_with_the_lock(tmp_path: Path) -> None:
    # Given a copy of the Lambda lock
    lock = tmp_path / "requirements.lock"
    lock.write_text(bundling.LAMBDA_LOCK.read_text())
    before = bundling.bundle_fingerprint(lock)
    # When one pin moves
    lock.write_text(lock.read_text().replace("numpy==", "numpy==0.0.0+", 1))
    # Then the asset hash is new, so the upgrade reaches Lambda
    assert bundling.bundle_fingerprint(lock) != before
    assert bundling.bundle_fingerprint() == bundling.bundle_fingerprint(bundling.LAMBDA_LOCK)


def test_fingerprint_covers_the_target_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the fingerprint for today's platform tags
    before = bundling.bundle_fingerprint()
    # When the tags change
    monkeypatch.setattr(bundling, "PLATFORMS", ("manylinux_2_28_aarch64",))
    # Then so does the asset hash
    assert bundling.bundle_fingerprint() != before


def test_finishing_drops_bin_and_compiles_unchecked_hash_pycs_for_the_runtime(
    tmp_path: Path, runtime_python: str, runtime_magic: bytes
) -> None:
    # Given what pip --target leaves: a package and console scripts with this machine's shebang
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "f2py").write_text("#!/build/machine/python\n")
    package = tmp_path / "fakepkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("VALUE = 1\n")
    (package / "sub" / "mod.py").write_text("def f() -> int:\n    return 2\n")
    # When the bundle is finished
    bundling.finish_bundle(tmp_path, runtime_python)
    # Then bin/ is gone
    assert not (tmp_path / "bin").exists()
    # And every module has a cpython-313 pyc, hash-based and never checked against its source
    pycs = sorted(path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*.pyc"))
    assert pycs == [
        "fakepkg/__pycache__/__init__.cpython-313.pyc",
        "fakepkg/sub/__pycache__/mod.cpython-313.pyc",
    ]
    for pyc in tmp_path.rglob("*.pyc"):
        assert pyc_header(pyc) == (runtime_magic, UNCHECKED_HASH_FLAGS)
    # And tracebacks will name the files where Lambda puts them
    assert (
        b"/var/task/fakepkg/sub/mod.py"
        in (package / "sub" / "__pycache__" / "mod.cpython-313.pyc").read_bytes()
    )


def test_bundling_ships_the_compiled_package_and_no_dev_bytecode(
    tmp_path: Path, runtime_magic: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a pip that leaves one dependency and a bin/ script (no download in tests)
    def fake_pip(output_dir: Path) -> None:
        (output_dir / "bin").mkdir()
        (output_dir / "bin" / "numpy-config").write_text("#!/build/machine/python\n")
        (output_dir / "dependency").mkdir()
        (output_dir / "dependency" / "__init__.py").write_text("")

    monkeypatch.setattr(bundling.PipLocalBundling, "_install_requirements", staticmethod(fake_pip))
    # When the asset is bundled
    assert bundling.PipLocalBundling().try_bundle(str(tmp_path), options=None)  # type: ignore[arg-type]
    # Then the embedrock package and the dependency are there, compiled for the runtime, without bin/
    assert not (tmp_path / "bin").exists()
    handler_pyc = tmp_path / "embedrock" / "handlers" / "__pycache__" / "__init__.cpython-313.pyc"
    assert handler_pyc.is_file() and pyc_header(handler_pyc)[0] == runtime_magic
    assert (tmp_path / "dependency" / "__pycache__" / "__init__.cpython-313.pyc").is_file()
    sources = {path.relative_to(tmp_path).with_suffix("") for path in tmp_path.rglob("*.py")}
    compiled = {
        (path.parent.parent / path.name.split(".")[0]).relative_to(tmp_path)
        for path in tmp_path.rglob("*.pyc")
    }
    assert sources == compiled
    # And only the runtime's bytecode: nothing the dev tree's interpreter compiled was copied
    assert {path.name.split(".")[1] for path in tmp_path.rglob("*.pyc")} == {"cpython-313"}


def test_a_missing_runtime_python_is_named_with_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no runtime Python configured and none on PATH
    monkeypatch.delenv(bundling.BUNDLE_PYTHON_ENV, raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    # Then bundling stops with what to install
    with pytest.raises(RuntimeError, match=r"python3\.13.*install CPython 3\.13.*EMBEDROCK_BUNDLE_PYTHON"):
        bundling.bundle_python()


def test_a_runtime_python_of_another_version_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given EMBEDROCK_BUNDLE_PYTHON pointing at an interpreter that is not 3.13
    other = tmp_path / "python3.11"
    other.write_text("#!/bin/sh\necho cpython-311\n")
    other.chmod(0o755)
    monkeypatch.setenv(bundling.BUNDLE_PYTHON_ENV, str(other))
    # Then it is refused: its bytecode would not load on the runtime
    with pytest.raises(RuntimeError, match=r"is not CPython 3\.13 \(cpython-311\)"):
        bundling.bundle_python()


def test_two_builds_compile_to_identical_bytecode(tmp_path: Path, runtime_python: str) -> None:
    # Given the embedrock package copied into two different build directories
    builds = [tmp_path / "first", tmp_path / "second"]
    for build in builds:
        shutil.copytree(
            bundling.ASSET_DIR / bundling.PACKAGE,
            build / bundling.PACKAGE,
            ignore=shutil.ignore_patterns(*bundling.IGNORED),
        )
        # When each is finished
        bundling.finish_bundle(build, runtime_python)
    # Then both hold the same files byte for byte: the asset does not depend on where it was built
    contents = [
        {path.relative_to(build).as_posix(): path.read_bytes() for path in build.rglob("*") if path.is_file()}
        for build in builds
    ]
    assert any(name.endswith(".cpython-313.pyc") for name in contents[0])
    assert contents[0] == contents[1]


def test_the_cold_import_measure_builds_the_bundle_by_this_recipe(tmp_path: Path) -> None:
    # The perf measure cannot import infra (it loads the CDK): its copy of the recipe must agree
    assert cold_import.compile_command(tmp_path, "python3.13") == bundling.compile_command(
        tmp_path, "python3.13"
    )
    assert cold_import.LAMBDA_LOCK == bundling.LAMBDA_LOCK
    assert cold_import.IGNORED == bundling.IGNORED
    assert (cold_import.PYTHON_VERSION, cold_import.CACHE_TAG) == (
        bundling.PYTHON_VERSION,
        bundling.CACHE_TAG,
    )
    assert cold_import.BUNDLE_PYTHON_ENV == bundling.BUNDLE_PYTHON_ENV
    assert cold_import.PACKAGE_DIR == bundling.ASSET_DIR / bundling.PACKAGE
    install = cold_import.install_command("uv", "python3.13", tmp_path)
    assert {"--require-hashes", "--no-compile", "--offline"} <= set(install)
    assert install[install.index("--requirement") + 1] == str(bundling.LAMBDA_LOCK)
