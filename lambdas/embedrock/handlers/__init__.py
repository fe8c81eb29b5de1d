"""The Lambda entry points, one module per function, and what every cold start sets up before them.

- The library packages whose `__init__` imports every sibling are registered so that each name
  loads only the submodule that defines it (embedrock.lazy_init): a function then imports the one
  Powertools resolver and the event classes it uses, not all of them.
- pydantic looks for plugins (the `pydantic` entry points of every distribution on sys.path) when
  it builds its first validator: the bundle installs none, so the search is skipped
  (PYDANTIC_DISABLE_PLUGINS, read by pydantic/plugin/_loader.py; pydantic docs, "Pydantic
  Plugins"). A value set in the function's environment is kept.
"""

import os

from embedrock import lazy_init

DEFERRED_PACKAGES = (
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.event_handler.openapi",
    "aws_lambda_powertools.utilities.data_classes",
    "aws_lambda_powertools.utilities.batch",
)

os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
for _package in DEFERRED_PACKAGES:
    lazy_init.defer(_package)
