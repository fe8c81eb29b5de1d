#!/usr/bin/env python3
"""CDK entry point: synthesizes the Embedrock stack offline (no credentials, no lookups)."""

from __future__ import annotations

import os

from infra.app_builder import build_app


def main() -> None:
    # The CDK CLI sets CDK_OUTDIR; run directly, write where the CLI would.
    app, _ = build_app(outdir=os.environ.get("CDK_OUTDIR", "cdk.out"))
    app.synth()


if __name__ == "__main__":
    main()
