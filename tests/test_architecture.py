"""The layering holds beyond what lint-imports sees: no import cycle among staffbridge's modules, and no
core module imports an adapter (they are found through entry points).

Imports inside functions count (they only hide a cycle); imports under `if TYPE_CHECKING:` do not
(they never run). The layers themselves are import-linter contracts in pyproject.toml (`lint-imports`).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import ClassVar

import grimp

import staffbridge

PACKAGE = Path(staffbridge.__file__).resolve().parent
# layers that must not import staffbridge.adapters (faces may: `list --csv` writes with the csv adapter's writer)
CORE = ("model", "mapping", "sdk", "store", "jobs", "sandbox")


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (or a module importing itself), sorted.

    Tarjan's algorithm, iterative: every module in a component can reach every other through imports."""
    modules = sorted(m for m in graph.modules if m == "staffbridge" or m.startswith("staffbridge."))
    edges = {m: sorted(n for n in graph.find_modules_directly_imported_by(m) if n in modules) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for root in modules:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            module, position = work.pop()
            if position == 0:
                index[module] = low[module] = len(index)
                stack.append(module)
                on_stack.add(module)
            for offset, imported in enumerate(edges[module][position:], start=position):
                if imported not in index:
                    work.append((module, offset + 1))
                    work.append((imported, 0))
                    break
                if imported in on_stack:
                    low[module] = min(low[module], index[imported])
            else:
                if low[module] == index[module]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == module:
                            break
                    if len(component) > 1 or module in edges[module]:
                        components.append(sorted(component))
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
    return sorted(components)


def build_graph() -> grimp.ImportGraph:
    return grimp.build_graph("staffbridge", exclude_type_checking_imports=True, cache_dir=None)


def test_no_import_cycle_among_staffbridge_modules():
    cycles = import_cycles(build_graph())
    assert not cycles, "import cycles (imports inside functions count):\n" + "\n".join(
        f"  {len(cycle)} modules: {', '.join(cycle)}" for cycle in cycles
    )


def test_the_cycle_finder_finds_cycles():
    class Graph:
        modules: ClassVar = {"staffbridge", "staffbridge.a", "staffbridge.b", "staffbridge.c", "staffbridge.d", "os"}
        imports: ClassVar = {
            "staffbridge": {"staffbridge.a"},
            "staffbridge.a": {"staffbridge.b", "os"},
            "staffbridge.b": {"staffbridge.a", "staffbridge.c"},
            "staffbridge.c": set(),
            "staffbridge.d": {"staffbridge.d"},
        }

        def find_modules_directly_imported_by(self, module: str) -> set[str]:
            return self.imports.get(module, set())

    assert import_cycles(Graph()) == [["staffbridge.a", "staffbridge.b"], ["staffbridge.d"]]


def imported_names(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in the file, inside functions too, outside `if TYPE_CHECKING:` blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for statement in node.body for child in ast.walk(statement))
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def test_no_core_module_imports_an_adapter():
    offending = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}"
        for layer in CORE
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for line, name in imported_names(path)
        if name == "staffbridge.adapters" or name.startswith("staffbridge.adapters.")
    ]
    assert not offending, "adapters are found through entry points (staffbridge.sdk.registry):\n" + "\n".join(offending)


def test_the_import_scan_sees_function_imports_and_skips_type_checking(tmp_path):
    module = tmp_path / "module.py"
    module.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import staffbridge.adapters.moco\n"
        "def f():\n    from staffbridge.adapters import files\n"
    )
    assert imported_names(module) == [(1, "typing.TYPE_CHECKING"), (5, "staffbridge.adapters.files")]
