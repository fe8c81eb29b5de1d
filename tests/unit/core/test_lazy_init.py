"""embedrock.lazy_init: a re-exporting package's names load their own submodule only."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from embedrock import lazy_init

REPO = Path(__file__).resolve().parents[3]


def write_package(root: Path, name: str, init: str) -> None:
    package = root / name
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(init))
    (package / "first.py").write_text("LOADS = 'first'\nclass One: ...\n")
    (package / "second.py").write_text("class Two: ...\n")
    (package / "third.py").write_text("VALUE = 3\n")


@pytest.fixture
def packages(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in set(sys.modules) - before:
        del sys.modules[name]


REEXPORTS = '''
    """Re-exports only."""
    from .first import One
    from {name}.second import Two as Renamed

    __all__ = ["One", "Renamed"]
'''


def test_a_re_export_loads_only_its_submodule(packages: Path) -> None:
    # Given a package whose __init__ only re-exports its submodules' names, deferred
    write_package(packages, "reexporting", REEXPORTS.format(name="reexporting"))
    assert lazy_init.defer("reexporting")
    # When one name is imported from the package
    from reexporting import One  # type: ignore[import-not-found]

    # Then only the submodule that defines it ran, and the name is the submodule's own
    assert "reexporting.first" in sys.modules
    assert "reexporting.second" not in sys.modules
    assert One is sys.modules["reexporting.first"].One
    # and the other names, __all__ and plain submodules still resolve on access
    package = sys.modules["reexporting"]
    assert package.Renamed is sys.modules["reexporting.second"].Two
    assert package.__all__ == ["One", "Renamed"]
    assert package.third.VALUE == 3


def test_a_name_shadowing_its_own_submodule_stays_the_name(packages: Path) -> None:
    # Given a package re-exporting a function from the submodule of the same name
    write_package(packages, "shadowing", "from .deco import deco\nfrom .first import One\n")
    (packages / "shadowing" / "deco.py").write_text("def deco(function):\n    return function\n")
    assert lazy_init.defer("shadowing")
    # When that submodule is imported on its own before the name is read
    import shadowing.deco  # type: ignore[import-not-found]  # noqa: F401

    # Then the package's name is still the function, as the real __init__ leaves it
    from shadowing import deco  # type: ignore[import-not-found]

    assert callable(deco) and deco is sys.modules["shadowing.deco"].deco
    assert "shadowing.first" not in sys.modules


def test_a_name_the_package_lacks_is_an_attribute_error(packages: Path) -> None:
    write_package(packages, "lacking", REEXPORTS.format(name="lacking"))
    assert lazy_init.defer("lacking")
    package = sys.modules["lacking"]
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        _ = package.missing
    with pytest.raises(ImportError):
        from lacking import missing  # type: ignore[import-not-found] # noqa: F401


def test_a_submodule_imported_directly_skips_the_init(packages: Path) -> None:
    write_package(packages, "direct", REEXPORTS.format(name="direct"))
    assert lazy_init.defer("direct")
    import direct.second  # type: ignore[import-not-found]

    assert "direct.first" not in sys.modules
    assert direct.second.Two.__module__ == "direct.second"


@pytest.mark.parametrize(
    ("init", "name"),
    [
        ("from .first import One\nprint('side effect')\n", "One"),  # code beside the re-exports
        ("from .first import *\n", "LOADS"),  # names not known before running it
        ("from os import path\n", "path"),  # a re-export from outside the package
        ("from .first import One\n__all__ = sorted(['One'])\n", "One"),  # a computed __all__
    ],
)
def test_an_init_that_does_more_than_re_export_imports_as_usual(packages: Path, init: str, name: str) -> None:
    # Given a package whose __init__ does something else too
    write_package(packages, "eager", init)
    # Then it is not deferred: its import runs the whole __init__, as Python always does
    assert not lazy_init.defer("eager")
    assert "eager" not in sys.modules
    import eager  # type: ignore[import-not-found]

    assert name in vars(eager)


def test_an_imported_package_or_a_module_is_left_alone(packages: Path) -> None:
    write_package(packages, "imported", REEXPORTS.format(name="imported"))
    importlib.import_module("imported")

    assert not lazy_init.defer("imported")  # already imported: nothing to gain
    assert "imported.second" in sys.modules
    assert not lazy_init.defer("json.decoder")  # a module, not a package
    assert not lazy_init.defer("no_such_package_here")


def test_a_handler_loads_one_resolver_and_its_event_classes_and_serves() -> None:
    # Given a fresh interpreter importing the embeddings function's handler, then answering a
    # request that fails validation (resolver, validation and error handling, no Bedrock call)
    probe = (
        "import json, sys\n"
        "import embedrock.handlers.embeddings as handler\n"
        "from tests.events import LambdaContext, api_event\n"
        "loaded = sorted(name for name in sys.modules if name.startswith('aws_lambda_powertools.'))\n"
        "event = api_event('POST', '/embeddings', body={'model': 'no.such-model', 'texts': ['a']})\n"
        "answer = handler.handler(event, LambdaContext())\n"
        "print(json.dumps({'loaded': loaded, 'status': answer['statusCode'], 'body': answer['body']}))\n"
    )
    environment = {
        "PATH": "",
        "PYTHONPATH": f"{REPO / 'lambdas'}:{REPO}",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "Embedrock",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    completed = subprocess.run(
        [sys.executable, "-c", probe], env=environment, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    answer = json.loads(completed.stdout.splitlines()[-1])
    loaded = set(answer["loaded"])
    # Then the REST resolver and the API Gateway event class loaded, and the resolvers and event
    # classes of other event sources (which the packages' __init__ files import) did not
    assert {
        "aws_lambda_powertools.event_handler.api_gateway",
        "aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event",
    } <= loaded
    assert not loaded & {
        "aws_lambda_powertools.event_handler.appsync",
        "aws_lambda_powertools.event_handler.bedrock_agent_function",
        "aws_lambda_powertools.utilities.data_classes.sqs_event",
        "aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event",
    }
    # and the request got the API's 400, naming the field
    assert answer["status"] == 400
    assert json.loads(answer["body"])["error"]["param"] == "model"
