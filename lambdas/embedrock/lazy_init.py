"""Packages whose `__init__` only re-exports its submodules' names, registered so that a name
loads only the submodule that defines it.

Python runs a package's `__init__` before any of its submodules, and some of the libraries the
handlers use have an `__init__` that imports every sibling: the Powertools event handler package
imports every resolver (AppSync, Bedrock agents, VPC Lattice, ...), its data classes package every
event source's class (about forty modules). A function needs one resolver and one or two event
classes, yet paid for all of them at each cold start.

`defer(name)` reads the package's `__init__` source and, only if every statement in it is a
docstring, a `from ... import` of its own submodules or an `__all__`, puts in its place a
module with the same spec and path whose attributes load on first access: a re-exported name
imports the submodule that defines it, a submodule name imports that submodule. Anything else in
the file (code, a re-export from outside the package, a star import) keeps the package as it is:
it imports normally, only not deferred. Names and behaviour are the library's own, since the map
comes from its file at run time.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
import types
from collections.abc import Callable
from pathlib import Path

# Where each re-exported name comes from: name -> (absolute submodule, name there).
Exports = dict[str, tuple[str, str]]


def defer(name: str) -> bool:
    """Registers package `name` with deferred re-exports; False if it is already imported (nothing
    to gain), is not a package, or its `__init__` does more than re-export (it then imports as usual)."""
    if name in sys.modules:
        return False
    spec = importlib.util.find_spec(name)  # imports the parent packages, as any import of `name` would
    if spec is None or spec.origin is None or spec.submodule_search_locations is None:
        return False
    try:
        source = Path(spec.origin).read_text(encoding="utf-8")
    except OSError:  # no source beside the bytecode: nothing to read the re-exports from
        return False
    found = re_exports(source, name)
    if found is None:
        return False
    exports, names = found
    module = importlib.util.module_from_spec(spec)
    load = _loader(module, exports, names)
    module.__dict__["__getattr__"] = load
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    # A name that is also its own submodule's name (`from .event_source import event_source`)
    # is loaded now, as the real `__init__` would: importing that submodule later sets the
    # package's attribute to the module, and the name would never reach the loader.
    for attribute, (submodule, _) in exports.items():
        if submodule == f"{name}.{attribute}":
            load(attribute)
    return True


def re_exports(source: str, package: str) -> tuple[Exports, list[str]] | None:
    """The names an `__init__` re-exports and its `__all__` (or those names), or None when it does
    anything else."""
    exports: Exports = {}
    declared: list[str] | None = None
    for statement in ast.parse(source).body:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue  # the docstring
        if isinstance(statement, ast.ImportFrom):
            submodule = _own_submodule(statement, package)
            if submodule is None:
                return None
            for alias in statement.names:
                if alias.name == "*":
                    return None
                exports[alias.asname or alias.name] = (submodule, alias.name)
            continue
        if _is_all(statement):
            declared = _declared_names(statement)
            if declared is None:
                return None
            continue
        return None
    return exports, declared if declared is not None else list(exports)


def _own_submodule(statement: ast.ImportFrom, package: str) -> str | None:
    """The absolute name of the submodule a `from ... import` reads, if it is inside `package`."""
    if statement.module == "__future__":
        return None  # harmless, but nothing uses it in a pure re-export file: keep the rule simple
    if statement.level == 1 and statement.module:
        return f"{package}.{statement.module}"
    if statement.level == 0 and statement.module and statement.module.startswith(f"{package}."):
        return statement.module
    return None


def _is_all(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
        and statement.targets[0].id == "__all__"
    )


def _declared_names(statement: ast.stmt) -> list[str] | None:
    value = statement.value if isinstance(statement, ast.Assign) else None
    if not isinstance(value, ast.List | ast.Tuple):
        return None
    names = [
        item.value for item in value.elts if isinstance(item, ast.Constant) and isinstance(item.value, str)
    ]
    return names if len(names) == len(value.elts) else None


def _loader(module: types.ModuleType, exports: Exports, names: list[str]) -> Callable[[str], object]:
    package = module.__name__

    def load(attribute: str) -> object:  # PEP 562: called only for names not yet set
        if attribute == "__all__":
            value: object = list(names)
        elif attribute in exports:
            submodule, original = exports[attribute]
            value = getattr(importlib.import_module(submodule), original)
        elif not attribute.startswith("__") and importlib.util.find_spec(f"{package}.{attribute}"):
            value = importlib.import_module(f"{package}.{attribute}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {attribute!r}")
        setattr(module, attribute, value)
        return value

    return load
