"""The architecture contract (DESIGN.md, "Architecture rules"), checked over the import graph.

The graph comes from parsing every module of lambdas/embedrock, local/embedrock_local and infra
with `ast`: every import counts, at module level or inside a function (a lazy import still runs,
and still ties two modules together), and `import_module("a.literal")` too; relative imports
are resolved. An import under `if TYPE_CHECKING:` never runs, so it is exempt from the cycle
rule only: it may not point upward either, as what it names is still a dependency. (An AST
check rather than import-linter: no tool to lock, and its self-test feeds it a synthetic package.)

- the contexts (api, ingest, collections) never import each other;
- the core (everything else in embedrock but handlers, http/ included) imports no context; a
  handler imports the core and its own contexts only (the models handler both HTTP contexts, for
  the whole API's OpenAPI document), and nothing imports a handler (handlers are the composition
  edges);
- no cycles among the modules of lambdas/embedrock, nor among those of local/embedrock_local;
- lambdas/embedrock never imports embedrock_local, infra or tests;
- in embedrock_local, the tools (bench, perf, ingest) may import the runtime (emulator, gateway,
  serve), the runtime never imports the tools, and neither imports the command (cli) nor is
  imported by the shared modules at its top (environment); no module of it builds Bedrock
  clients but through the composition root (embedrock.wiring);
- what `cdk synth` loads of embedrock (infra's imports, then module-level ones) loads no numpy,
  botocore or boto3.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = {
    "embedrock": ROOT / "lambdas" / "embedrock",
    "embedrock_local": ROOT / "local" / "embedrock_local",
    "infra": ROOT / "infra",
}
CONTEXTS = frozenset({"api", "ingest", "collections"})
# The contexts each function's handler composes (a new handler must say which).
HANDLER_CONTEXTS: dict[str, frozenset[str]] = {
    "embeddings": frozenset({"api"}),
    # The whole API's OpenAPI document lists every route of every context, and the models
    # function serves it: its handler gathers the routers of both HTTP contexts.
    "models": frozenset({"api", "collections"}),
    "similarity": frozenset({"api"}),
    "rerank": frozenset({"api"}),
    "collections": frozenset({"collections"}),
    "ingest": frozenset({"ingest"}),
}
NOT_FOR_LAMBDAS = frozenset({"embedrock_local", "infra", "tests"})
NOT_AT_SYNTH = frozenset({"numpy", "botocore", "boto3"})
# What embedrock_local's layers may not import: runtime < tools < cli, the shared modules below all.
LOCAL_FORBIDDEN = {
    "shared": frozenset({"runtime", "tools", "cli"}),
    "runtime": frozenset({"tools", "cli"}),
    "tools": frozenset({"cli"}),
}
LOCAL_LAYERS = frozenset({"runtime", "tools", "cli"})
# Clients and embedders come from the composition root (wiring), never built by a local module.
LOCAL_NOT_WIRED = frozenset({"embedrock.bedrock.clients", "embedrock.vector_store.client"})


@dataclass(frozen=True)
class Import:
    source: str
    target: str  # the most specific module of ours it names, or the external name
    line: int
    type_checking: bool = False  # under `if TYPE_CHECKING:`: never runs
    deferred: bool = False  # inside a function: runs on first call, not at import

    def __str__(self) -> str:
        how = " (TYPE_CHECKING)" if self.type_checking else " (in a function)" if self.deferred else ""
        return f"{self.source}:{self.line} -> {self.target}{how}"


Graph = dict[str, list[Import]]


def find_modules(packages: Mapping[str, Path]) -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for name, directory in packages.items():
        for path in sorted(directory.rglob("*.py")):
            parts = path.relative_to(directory).with_suffix("").parts
            if "__pycache__" not in parts:
                modules[".".join((name, *parts[: -1 if parts[-1] == "__init__" else None]))] = path
    return modules


def import_graph(packages: Mapping[str, Path]) -> Graph:
    modules = find_modules(packages)
    return {module: list(_imports(module, path, modules)) for module, path in modules.items()}


def _imports(module: str, path: Path, modules: Mapping[str, Path]) -> Iterator[Import]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def known(name: str) -> str:  # a.b.c, or our package a.b when c is a name it defines
        ours = name
        while ours not in modules and "." in ours:
            ours = ours.rpartition(".")[0]
        return ours if ours in modules else name

    for node, type_checking, deferred in _nodes(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *filter(None, [node.module])])
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
            ]
        elif dynamic := _import_module_name(node):
            names = [dynamic]
        for target in dict.fromkeys(known(name) for name in names):
            yield Import(module, target, getattr(node, "lineno", 0), type_checking, deferred)


def _nodes(
    node: ast.AST, type_checking: bool = False, deferred: bool = False
) -> Iterator[tuple[ast.AST, bool, bool]]:
    yield node, type_checking, deferred
    deferred = deferred or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
    if isinstance(node, ast.If) and "TYPE_CHECKING" in {
        getattr(node.test, "id", None),
        getattr(node.test, "attr", None),
    }:
        for child in node.body:
            yield from _nodes(child, True, deferred)
        for child in node.orelse:
            yield from _nodes(child, type_checking, deferred)
        return
    for nested in ast.iter_child_nodes(node):
        yield from _nodes(nested, type_checking, deferred)


def _import_module_name(node: ast.AST) -> str | None:
    """The module of `import_module("a.literal")`."""
    if not isinstance(node, ast.Call) or not node.args or not isinstance(node.args[0], ast.Constant):
        return None
    called = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
    name = node.args[0].value
    return name if called == "import_module" and isinstance(name, str) else None


def _top(module: str) -> str:
    return module.partition(".")[0]


def part_of(module: str) -> str:
    """A module of embedrock's part: a context's name, "handlers" or "core"."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and (parts[1] in CONTEXTS or parts[1] == "handlers") else "core"


def layer_violations(
    graph: Graph, handler_contexts: Mapping[str, frozenset[str]] = HANDLER_CONTEXTS
) -> list[str]:
    found: list[str] = []
    for edge in (edge for imports in graph.values() for edge in imports if _top(edge.source) == "embedrock"):
        if _top(edge.target) in NOT_FOR_LAMBDAS:
            found.append(f"lambdas/embedrock imports {_top(edge.target)}: {edge}")
        if _top(edge.target) != "embedrock":
            continue
        source, target = part_of(edge.source), part_of(edge.target)
        if target == "handlers" and edge.target != "embedrock.handlers":
            found.append(f"a handler is a composition edge, never imported: {edge}")
        elif source == "handlers" and target in CONTEXTS:
            handler = edge.source.split(".")[2] if edge.source.count(".") > 1 else ""
            composes = handler_contexts.get(handler, frozenset())
            if target not in composes:
                found.append(
                    f"handler {handler} composes {', '.join(sorted(composes))}, not {target}: {edge}"
                )
        elif source == "core" and target != "core":
            found.append(f"the core imports {target}: {edge}")
        elif source in CONTEXTS and target in CONTEXTS and source != target:
            found.append(f"context {source} imports context {target}: {edge}")
    return found


def local_layer(module: str) -> str:
    """A module of embedrock_local's layer: "runtime", "tools", "cli" or "shared" (the rest at its top)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LOCAL_LAYERS else "shared"


def local_violations(graph: Graph) -> list[str]:
    found: list[str] = []
    for edge in (e for imports in graph.values() for e in imports if _top(e.source) == "embedrock_local"):
        if edge.target in LOCAL_NOT_WIRED:
            found.append(
                f"embedrock_local builds Bedrock clients itself, not through embedrock.wiring: {edge}"
            )
        if _top(edge.target) != "embedrock_local" or edge.target == "embedrock_local":
            continue
        source, target = local_layer(edge.source), local_layer(edge.target)
        if target in LOCAL_FORBIDDEN.get(source, frozenset()):
            found.append(f"embedrock_local's {source} imports its {target}: {edge}")
    return found


def cycles(graph: Graph, package: str) -> list[list[Import]]:
    """One cycle per strongly connected set of `package`'s modules, over imports that run."""
    edges = {
        module: {edge.target: edge for edge in imports if not edge.type_checking and edge.target != module}
        for module, imports in graph.items()
        if _top(module) == package
    }
    found = []
    for component in _strongly_connected(edges):
        if len(component) > 1:
            found.append(_a_cycle(edges, component))
    return found


def _strongly_connected(edges: Mapping[str, Mapping[str, Import]]) -> list[set[str]]:
    """Tarjan's algorithm (the graph is ~130 modules: recursion is fine)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in edges[module]:
            if target not in edges:
                continue
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = {stack.pop()}
            while module not in component:
                component.add(stack.pop())
            components.append(component)

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return components


def _a_cycle(edges: Mapping[str, Mapping[str, Import]], component: set[str]) -> list[Import]:
    """The shortest path from the component's first module back to itself (breadth first)."""
    start = min(component)
    paths: dict[str, list[Import]] = {start: []}
    queue = [start]
    for module in queue:
        for target, edge in sorted(edges[module].items()):
            if target == start:
                return [*paths[module], edge]
            if target in component and target not in paths:
                paths[target] = [*paths[module], edge]
                queue.append(target)
    raise AssertionError(f"no cycle through {start}")


def synth_imports(graph: Graph) -> list[str]:
    """numpy, botocore or boto3 reached from infra: infra's own imports of embedrock (any, as synth
    calls infra's functions), then embedrock's module-level ones, parent packages included."""
    chains = {edge.target: [edge] for module in graph if _top(module) == "infra" for edge in graph[module]}
    queue = [module for module in chains if _top(module) == "embedrock"]
    found = []
    for module in queue:
        parents = [".".join(module.split(".")[:n]) for n in range(1, module.count(".") + 1)]
        for edge in [*graph.get(module, []), *(Import(module, parent, 0) for parent in parents)]:
            if edge.type_checking or edge.deferred or edge.target in chains:
                continue
            chains[edge.target] = [*chains[module], edge]
            if _top(edge.target) in NOT_AT_SYNTH:
                found.append(" ; ".join(map(str, chains[edge.target])))
            elif _top(edge.target) == "embedrock":
                queue.append(edge.target)
    return found


def synthetic_graph(root: Path, package: str, sources: Mapping[str, str]) -> Graph:
    """The graph of a package written under `root` from {relative path: source}."""
    for name, source in sources.items():
        (root / package / name).parent.mkdir(parents=True, exist_ok=True)
        (root / package / name).write_text(source)
    return import_graph({package: root / package})


@pytest.fixture(scope="module")
def graph() -> Graph:
    return import_graph(PACKAGES)


def test_the_graph_sees_lazy_imports(graph: Graph) -> None:
    # A parser that found nothing would pass every rule: check it sees what the rules rely on.
    assert len(graph) > 100
    assert any(
        edge.target == "embedrock.api.routers.meta" and edge.deferred
        for edge in graph["embedrock.api.routers"]
    )


def test_contexts_never_import_each_other_and_the_core_imports_none(graph: Graph) -> None:
    assert layer_violations(graph) == []


def test_local_tools_sit_on_the_runtime_and_wire_through_the_composition_root(graph: Graph) -> None:
    # The check must see both layers, or it would pass on an empty graph
    assert {"runtime", "tools", "shared"} <= {local_layer(m) for m in graph if _top(m) == "embedrock_local"}
    assert local_violations(graph) == []


def test_the_local_checker_reports_upward_imports(tmp_path: Path) -> None:
    # Given a runtime importing a tool, a tool importing the command, a shared module importing
    # the runtime (lazily) and a tool building its own Bedrock client
    sources = {
        "__init__.py": "",
        "cli.py": "",
        "environment.py": "def f():\n    from embedrock_local.runtime import gateway\n",
        "runtime/__init__.py": "",
        "runtime/gateway.py": "from embedrock_local.tools.bench import run\n",
        "tools/__init__.py": "",
        "tools/bench/__init__.py": "",
        "tools/bench/run.py": (
            "from embedrock_local import cli\nfrom embedrock_local.runtime import gateway\n"
            "import embedrock.bedrock.clients\n"
        ),
    }
    synthetic = synthetic_graph(tmp_path, "embedrock_local", sources)

    # Then each is reported, and the tool's import of the runtime is not
    assert sorted(local_violations(synthetic)) == [
        "embedrock_local builds Bedrock clients itself, not through embedrock.wiring: "
        "embedrock_local.tools.bench.run:3 -> embedrock.bedrock.clients",
        "embedrock_local's runtime imports its tools: embedrock_local.runtime.gateway:1 -> embedrock_local.tools.bench.run",
        "embedrock_local's shared imports its runtime: embedrock_local.environment:2 -> embedrock_local.runtime.gateway (in a function)",
        "embedrock_local's tools imports its cli: embedrock_local.tools.bench.run:1 -> embedrock_local.cli",
    ]


@pytest.mark.parametrize("package", ["embedrock", "embedrock_local"])
def test_no_import_cycles(graph: Graph, package: str) -> None:
    assert [" ; ".join(map(str, cycle)) for cycle in cycles(graph, package)] == []


def test_synth_loads_no_numpy_or_botocore(graph: Graph) -> None:
    assert synth_imports(graph) == []


def test_the_checker_reports_cycles_and_upward_imports(tmp_path: Path) -> None:
    # Given a package with a lazy upward import closing a cycle through a relative import, a
    # context importing another, a handler imported (under TYPE_CHECKING only, which closes a
    # cycle that never runs) and an import of the local tools
    sources = {
        "__init__.py": "",
        "cache.py": "def build():\n    from embedrock.api import app\n",
        "api/__init__.py": "",
        "api/app.py": "from .. import cache\n",
        "ingest/__init__.py": "",
        "ingest/run.py": (
            "from typing import TYPE_CHECKING\nfrom embedrock.api.app import x\n"
            "if TYPE_CHECKING:\n    from embedrock.handlers import h\n"
        ),
        "handlers/__init__.py": "",
        "handlers/h.py": "import embedrock.ingest.run\nimport embedrock_local.gateway\n",
    }
    synthetic = synthetic_graph(tmp_path, "embedrock", sources)
    handler_contexts = {"h": frozenset({"api"})}

    # Then the cycle is reported, and only the one that runs
    assert [[str(edge) for edge in cycle] for cycle in cycles(synthetic, "embedrock")] == [
        ["embedrock.api.app:1 -> embedrock.cache", "embedrock.cache:2 -> embedrock.api.app (in a function)"]
    ]
    # And so is every upward import
    assert sorted(layer_violations(synthetic, handler_contexts)) == [
        "a handler is a composition edge, never imported: embedrock.ingest.run:4 -> embedrock.handlers.h (TYPE_CHECKING)",
        "context ingest imports context api: embedrock.ingest.run:2 -> embedrock.api.app",
        "handler h composes api, not ingest: embedrock.handlers.h:1 -> embedrock.ingest.run",
        "lambdas/embedrock imports embedrock_local: embedrock.handlers.h:2 -> embedrock_local.gateway",
        "the core imports api: embedrock.cache:2 -> embedrock.api.app (in a function)",
    ]
