"""Lambda code asset, bundled without Docker.

pip downloads the wheels built for the Lambda runtime (CPython on Linux arm64), whatever machine
runs the synth, then the `embedrock` package is copied next to them. All functions share this one
asset, so bundling runs once per synth, and not at all while its inputs are unchanged.
"""

from __future__ import annotations

import fnmatch
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import cast

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

ROOT = Path(__file__).resolve().parent.parent
ASSET_DIR = ROOT / "lambdas"
PACKAGE = "embedrock"
REQUIREMENTS = ROOT / "requirements.txt"

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
PYTHON_VERSION = "3.14"
# Lambda's Python 3.14 runtime is Amazon Linux 2023 (glibc 2.34). pip matches each --platform
# tag literally, so list the tags wheels use: numpy's cp314 wheels are manylinux_2_28 only,
# others are manylinux2014 (glibc 2.17).
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64")
IGNORED = ("__pycache__", "*.pyc")


@jsii.implements(cdk.ILocalBundling)
class PipLocalBundling:
    """Bundles on this machine; returning True tells CDK not to fall back to Docker."""

    def try_bundle(self, output_dir: str, options: cdk.BundlingOptions) -> bool:
        del options  # the Docker-side options do not apply to local bundling
        self._install_requirements(Path(output_dir))
        shutil.copytree(
            ASSET_DIR / PACKAGE,
            Path(output_dir) / PACKAGE,
            ignore=shutil.ignore_patterns(*IGNORED),
            dirs_exist_ok=True,
        )
        return True

    @staticmethod
    def _install_requirements(output_dir: Path) -> None:
        command = [
            sys.executable, "-m", "pip", "install",
            "--requirement", str(REQUIREMENTS),
            "--target", str(output_dir),
            *(argument for platform in PLATFORMS for argument in ("--platform", platform)),
            "--implementation", "cp",
            "--python-version", PYTHON_VERSION,
            "--only-binary=:all:",
            # Byte code compiled by this interpreter would not match the Lambda runtime's.
            "--no-compile",
            "--disable-pip-version-check",
            "--quiet",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            # Raise rather than return False: CDK would fall back to Docker and hide pip's reason.
            raise RuntimeError(f"bundling the Lambda code failed: {' '.join(command)}\n{result.stderr}")


def bundle_fingerprint() -> str:
    """Everything the bundle is made of: the source, the requirements, the target, this recipe."""
    digest = hashlib.sha256(f"{PLATFORMS}/cp{PYTHON_VERSION}".encode())
    sources = sorted(path for path in ASSET_DIR.rglob("*") if path.is_file() and not _ignored(path))
    for path in [REQUIREMENTS, Path(__file__), *sources]:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _ignored(path: Path) -> bool:
    return any(fnmatch.fnmatch(part, pattern) for part in path.parts for pattern in IGNORED)


def lambda_code() -> lambda_.Code:
    """The one code asset of every function. Create it once and pass it to each function."""
    return lambda_.Code.from_asset(
        str(ASSET_DIR),
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
