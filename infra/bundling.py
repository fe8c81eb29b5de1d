"""Lambda code asset, bundled without Docker.

pip installs the Lambda lock (every pin with its hashes) from the wheels built for the Lambda
runtime (CPython on Linux arm64), whatever machine runs the synth; the `embedrock` package is
copied next to them; then the runtime's own Python compiles the bytecode of the whole bundle. All
functions share this one asset, so bundling runs once per synth, and not at all while its inputs
(the lock, the source, this recipe) are unchanged.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import cast

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

ROOT = Path(__file__).resolve().parent.parent
ASSET_DIR = ROOT / "lambdas"
PACKAGE = "embedrock"
# What the bundle ships: `make lock` writes it from requirements.txt.
LAMBDA_LOCK = ROOT / "requirements.lock"

# Python 3.13, not the newest Lambda runtime (3.14): the suite runs under the runtime's minor
# (`make test-lambda-python`), and this machine kind can install CPython 3.13 but no 3.14.
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
PYTHON_VERSION = "3.13"
# The runtime's bytecode tag: the compiled files are __pycache__/*.cpython-313.pyc.
CACHE_TAG = "cpython-313"
# Lambda's python3.13 runtime runs on Amazon Linux 2023 (AWS Lambda developer guide, "Lambda
# runtimes": docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html), whose glibc is 2.34, so
# it loads manylinux wheels up to manylinux_2_34. pip matches each --platform tag literally (it
# does not widen manylinux_2_34 to older glibc levels), so list every level wheels use.
GLIBC_MINOR = 34
PLATFORMS = (
    "manylinux2014_aarch64",
    *(f"manylinux_2_{minor}_aarch64" for minor in range(17, GLIBC_MINOR + 1)),
)
# The dev tree's bytecode (this machine's Python) is never copied; the bundle compiles its own.
IGNORED = ("__pycache__", "*.pyc")
# Timestamp-based .pyc files would be rejected at every cold start: a zip keeps mtimes at
# 2-second resolution (and the CDK CLI zips every file with one fixed date), so the recorded source
# mtime no longer matches, and /var/task is read-only, so Python recompiles in memory each time. A hash-based pyc that is not checked
# against its source is valid as long as the bundle is not edited, which it never is.
INVALIDATION_MODE = "unchecked-hash"
# Where Lambda unpacks the bundle: compiled paths (tracebacks) name it, not the build directory.
TASK_ROOT = "/var/task"
BUNDLE_PYTHON_ENV = "EMBEDROCK_BUNDLE_PYTHON"


@jsii.implements(cdk.ILocalBundling)
class PipLocalBundling:
    """Bundles on this machine; returning True tells CDK not to fall back to Docker."""

    def try_bundle(self, output_dir: str, options: cdk.BundlingOptions) -> bool:
        del options  # the Docker-side options do not apply to local bundling
        output = Path(output_dir)
        # First, so a missing interpreter fails before pip downloads anything.
        python = bundle_python()
        self._install_requirements(output)
        shutil.copytree(
            ASSET_DIR / PACKAGE,
            output / PACKAGE,
            ignore=shutil.ignore_patterns(*IGNORED),
            dirs_exist_ok=True,
        )
        finish_bundle(output, python)
        return True

    @staticmethod
    def _install_requirements(output_dir: Path) -> None:
        _run(pip_command(output_dir), "installing the Lambda lock")


def pip_command(output_dir: Path) -> list[str]:
    """pip, installing the Lambda lock's wheels for the runtime's platform into output_dir."""
    return [
        sys.executable, "-m", "pip", "install",
        "--requirement", str(LAMBDA_LOCK),
        # Every pin and every file checked against the lock: nothing unlocked can be shipped.
        "--require-hashes",
        "--target", str(output_dir),
        *(argument for platform in PLATFORMS for argument in ("--platform", platform)),
        "--implementation", "cp",
        "--python-version", PYTHON_VERSION,
        "--only-binary=:all:",
        # Bytecode compiled by this interpreter would not match the runtime's: finish_bundle compiles.
        "--no-compile",
        "--disable-pip-version-check",
        "--quiet",
    ]  # fmt: skip


def finish_bundle(output_dir: Path, python: str) -> None:
    """Drops pip's bin/ scripts and compiles the whole bundle's bytecode with the runtime's Python."""
    # Console scripts (f2py, ...) whose shebang is the build machine's interpreter: no use on Lambda.
    shutil.rmtree(output_dir / "bin", ignore_errors=True)
    _run(compile_command(output_dir, python), "compiling the Lambda bytecode")


def compile_command(output_dir: Path, python: str) -> list[str]:
    return [
        python, "-m", "compileall",
        "-q",
        "-j", "0",
        "--invalidation-mode", INVALIDATION_MODE,
        # Recorded source paths as Lambda sees them: /var/task/numpy/..., not this build directory.
        "-s", str(output_dir),
        "-p", TASK_ROOT,
        str(output_dir),
    ]  # fmt: skip


def bundle_python() -> str:
    """The runtime's CPython on this machine: $EMBEDROCK_BUNDLE_PYTHON, else python3.13 on PATH."""
    configured = os.environ.get(BUNDLE_PYTHON_ENV)
    candidate = configured or shutil.which(f"python{PYTHON_VERSION}")
    how_to_fix = (
        f"install CPython {PYTHON_VERSION} (for example `pyenv install {PYTHON_VERSION}` or the "
        f"python{PYTHON_VERSION} package of your OS), or set {BUNDLE_PYTHON_ENV} to its path"
    )
    if candidate is None:
        raise RuntimeError(
            f"bundling the Lambda code needs the runtime's Python to compile its bytecode: "
            f"no python{PYTHON_VERSION} on PATH; {how_to_fix}"
        )
    try:
        result = subprocess.run(
            [candidate, "-c", "import sys; print(sys.implementation.cache_tag)"],
            capture_output=True,
            text=True,
            check=False,
            env=_python_env(),
        )
    except OSError as error:
        raise RuntimeError(f"cannot run {candidate} ({error}); {how_to_fix}") from error
    tag = result.stdout.strip()
    if result.returncode != 0 or tag != CACHE_TAG:
        found = tag or (result.stderr.strip().splitlines() or ["no output"])[0]
        raise RuntimeError(f"{candidate} is not CPython {PYTHON_VERSION} ({found}); {how_to_fix}")
    return candidate


def _python_env() -> Mapping[str, str]:
    # A pyenv shim runs python3.13 only while a 3.13 is selected; no effect on any other python3.13.
    return {**os.environ, "PYENV_VERSION": PYTHON_VERSION}


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=_python_env())
    if result.returncode != 0:
        # Raise rather than return False: CDK would fall back to Docker and hide the reason.
        raise RuntimeError(
            f"bundling the Lambda code failed {what}: {' '.join(command)}\n{result.stdout}{result.stderr}"
        )


def bundle_fingerprint(lock: Path = LAMBDA_LOCK) -> str:
    """Everything the bundle is made of: the lock, the target platform, this recipe, the source."""
    target = (RUNTIME.name, ARCHITECTURE.name, PYTHON_VERSION, CACHE_TAG, INVALIDATION_MODE, *PLATFORMS)
    sources = sorted(path for path in ASSET_DIR.rglob("*") if path.is_file() and not _ignored(path))
    parts = [
        ("target", "/".join(target).encode()),
        ("lock", lock.read_bytes()),
        ("recipe", Path(__file__).read_bytes()),
        *((str(path.relative_to(ASSET_DIR)), path.read_bytes()) for path in sources),
    ]
    digest = hashlib.sha256()
    for name, content in parts:
        digest.update(name.encode() + b"\0" + str(len(content)).encode() + b"\0" + content)
    return digest.hexdigest()


def _ignored(path: Path) -> bool:
    return any(fnmatch.fnmatch(part, pattern) for part in path.parts for pattern in IGNORED)


def lambda_code() -> lambda_.Code:
    """The one code asset of every function. Create it once and pass it to each function."""
    return lambda_.Code.from_asset(
        str(ASSET_DIR),
        # Applies to the source directory only (staged as is when bundling is skipped, as in the
        # tests), never to the bundle's output, whose compiled __pycache__ is shipped.
        exclude=list(IGNORED),
        # A hash of the inputs rather than of pip's output: while it is unchanged, CDK reuses
        # the bundle already in cdk.out instead of running pip again.
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        asset_hash=bundle_fingerprint(),
        bundling=cdk.BundlingOptions(
            # Required by the API; never pulled, because local bundling succeeds or raises.
            image=RUNTIME.bundling_image,
            local=cast(cdk.ILocalBundling, PipLocalBundling()),
        ),
    )
