"""The analysis package's modules import each other without a cycle.

Every import counts, at module level or inside a function (a deferred import still ties the
two modules together); only `if TYPE_CHECKING:` imports, which never run, are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nanlint.analysis

PACKAGE = "nanlint.analysis"


def _imported(tree: ast.Module) -> set[str]:
    """The modules of PACKAGE that a module's code imports."""
    names: set[str] = set()
    pending: list[ast.AST] = [
        node
        for node in tree.body
        if not (isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test))
    ]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        pending.extend(ast.iter_child_nodes(node))
    return {name for name in names if name.startswith(PACKAGE + ".") and name.count(".") == 2}


def import_graph(folder: Path) -> dict[str, set[str]]:
    return {
        f"{PACKAGE}.{path.stem}": _imported(ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted(folder.glob("*.py"))
        if path.stem != "__init__"
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph (its modules in order, the first repeated), or None."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for target in sorted(graph.get(module, ())):
            cycle = visit(target, [*path, module])
            if cycle:
                return cycle
        done.add(module)
        return None

    for module in graph:
        cycle = visit(module, [])
        if cycle:
            return cycle
    return None


def test_the_analysis_package_has_no_import_cycle():
    graph = import_graph(Path(nanlint.analysis.__file__).parent)
    assert "nanlint.analysis.interpreter" in graph["nanlint.analysis.project"]
    assert find_cycle(graph) is None


def test_a_deferred_import_back_is_a_cycle(tmp_path):
    (tmp_path / "a.py").write_text(f"from {PACKAGE}.b import thing\n")
    (tmp_path / "b.py").write_text(
        "from typing import TYPE_CHECKING\n"
        f"if TYPE_CHECKING:\n    from {PACKAGE}.a import only_a_type\n"
        f"def later():\n    from {PACKAGE}.a import other\n"
    )
    graph = import_graph(tmp_path)
    assert find_cycle(graph) == [f"{PACKAGE}.a", f"{PACKAGE}.b", f"{PACKAGE}.a"]
    (tmp_path / "b.py").write_text(
        f"from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from {PACKAGE}.a import x\n"
    )
    assert find_cycle(import_graph(tmp_path)) is None
