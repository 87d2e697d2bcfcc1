"""The product stands alone: no module of ``include/cxw`` imports the simulator
(``cxw_demo``), and the modules of ``include/`` import each other without a cycle.

Every import counts, wherever it stands (module level, inside a function, under
``TYPE_CHECKING``): a function-level import only hides a cycle until that function runs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

INCLUDE = Path(__file__).resolve().parents[2] / "include"


def module_name(path: Path, root: Path = INCLUDE) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(path: Path, module: str) -> Iterator[str]:
    """Every module name ``path`` imports (``from a import b`` yields ``a.b`` and ``a``:
    ``b`` may be a module or a name in ``a``; the caller keeps what exists)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph(root: Path = INCLUDE) -> dict[str, set[str]]:
    """Module -> the modules of ``root`` it imports (importing ``a.b.c`` runs ``a`` and
    ``a.b`` first: they count too, except the importing module's own enclosing packages,
    which Python has initialised before the module runs: a package's ``__init__`` that
    re-exports its submodules is not a cycle with them, unless a submodule imports names
    from it)."""
    paths = {module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    graph = {}
    for module, path in paths.items():
        named = set(imported_names(path, module))
        implied = {
            ".".join(parts[:end])
            for name in named
            for parts in [name.split(".")]
            for end in range(1, len(parts))
        }
        enclosing = {".".join(module.split(".")[:end]) for end in range(1, module.count(".") + 1)}
        names = named | (implied - enclosing)
        graph[module] = (names & set(paths)) - {module}
    return graph


def find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or None (depth-first search)."""
    state: dict[str, str] = {}  # "open" while on the current path, then "done"
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                return [*path[path.index(target):], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def f():\n    from .sub import c\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n"
    )
    graph = import_graph(tmp_path)
    assert graph["pkg.a"] == {"pkg", "pkg.b"}
    # pkg.b's and pkg.sub.c's enclosing package ``pkg`` ran before them: not an edge.
    assert graph["pkg.b"] == {"pkg.sub", "pkg.sub.c"}
    assert graph["pkg.sub.c"] == {"pkg.a"}
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"]


def test_a_package_re_exporting_its_submodules_is_no_cycle(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from pkg.a import f\n")
    (package / "a.py").write_text("from pkg.b import g\n")
    (package / "b.py").write_text("g = 1\n")
    assert find_cycle(import_graph(tmp_path)) is None
    # ... unless a submodule imports names from the package itself.
    (package / "b.py").write_text("from pkg import f\n")
    assert find_cycle(import_graph(tmp_path)) == ["pkg", "pkg.a", "pkg.b", "pkg"]
    assert find_cycle({"x": {"y"}, "y": set()}) is None


def test_no_module_of_cxw_imports_the_simulator() -> None:
    graph = import_graph()
    offenders = {
        module: sorted(target for target in targets if target.split(".")[0] == "cxw_demo")
        for module, targets in graph.items()
        if module.split(".")[0] == "cxw"
    }
    offenders = {module: targets for module, targets in offenders.items() if targets}
    assert not offenders, f"cxw imports the simulator: {offenders}"


def test_no_import_cycle_in_include() -> None:
    graph = import_graph()
    assert {"cxw.cli", "cxw.cluster", "cxw_demo.run"} <= set(graph)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("module", ["cxw.cli", "cxw.cluster", "cxw.local_airflow"])
def test_the_airflow_modules_import_down_the_layers(module: str) -> None:
    """cli -> cluster -> local_airflow -> processes / airflow_api: never back up."""
    layers = ["cxw.cli", "cxw.cluster", "cxw.local_airflow"]
    above = set(layers[: layers.index(module)])
    assert not import_graph()[module] & above, module
