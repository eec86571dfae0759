"""The package's layers go one way: the core loads nothing outside the standard library,
no part of `outage` imports another that imports it back, and SQL runs only in the storage
layer, `outage.db` and the schema migrations."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "outage"

# Run in a fresh interpreter: which modules does importing the whole core add, and where
# does each live? (A module of the standard library may have a name outside
# `sys.stdlib_module_names`, such as `_sysconfigdata_*`; its file says where it is.)
_LOADED = """
import json, sys, sysconfig
from pathlib import Path
before = set(sys.modules)
import outage.core, pkgutil, importlib
for info in pkgutil.iter_modules(outage.core.__path__, "outage.core."):
    importlib.import_module(info.name)
stdlib = {Path(sysconfig.get_paths()[key]).resolve() for key in ("stdlib", "platstdlib")}
def where(name):
    file = getattr(sys.modules[name], "__file__", None)
    if not file:
        return "builtin"
    path = Path(file).resolve()
    if "site-packages" not in path.parts and any(path.is_relative_to(s) for s in stdlib):
        return "stdlib"
    return str(path)
print(json.dumps({name: where(name) for name in set(sys.modules) - before}))
"""


def test_the_core_loads_only_the_standard_library_and_itself() -> None:
    run = subprocess.run(
        [sys.executable, "-c", _LOADED], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded: dict[str, str] = json.loads(run.stdout)
    ours = {name for name in loaded if name.split(".")[0] == "outage"}
    outside = {
        name: where
        for name, where in loaded.items()
        if name not in ours and name.split(".")[0] not in sys.stdlib_module_names and where != "stdlib"
    }
    assert outside == {}
    assert sorted(ours - {"outage", "outage.core"}) == sorted(
        name for name in ours if name.startswith("outage.core.")
    )
    assert "outage.core.detector" in ours


def _unit(module: str) -> str | None:
    """The top-level part of `outage` that `module` is in: `outage.storage.outbox` -> `storage`."""
    parts = module.split(".")
    return parts[1] if parts[0] == "outage" and len(parts) > 1 else None


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, at its top or inside a function, as absolute names."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(filter(None, [base, node.module or ""]))
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, dict[str, set[str]]]:
    """Unit -> unit it imports -> the files of the first that do."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in sorted(PACKAGE.rglob("*.py")):
        me = _unit(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for module in _imports(path):
            other = _unit(module)
            if me and other and other != me and _exists(other):
                graph[me][other].add(str(path.relative_to(ROOT)))
    return graph


def _exists(unit: str) -> bool:
    return (PACKAGE / unit).is_dir() or (PACKAGE / f"{unit}.py").is_file()


def _cycles(graph: dict[str, dict[str, set[str]]]) -> list[list[str]]:
    """The strongly connected parts of more than one unit (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            part = []
            while True:
                top = stack.pop()
                part.append(top)
                if top == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_part_of_the_package_imports_one_that_imports_it_back() -> None:
    graph = _graph()
    cycles = _cycles(graph)
    ties = {
        f"{a} -> {b}": sorted(graph[a][b]) for part in cycles for a in part for b in part if b in graph[a]
    }
    assert cycles == [], ties


def test_the_core_imports_nothing_else_of_the_package() -> None:
    assert set(_graph()["core"]) == set()


def test_the_package_never_imports_the_entry_files_nor_the_tools_around_it() -> None:
    outside = {"hsm_dispatch", "monitor_service", "simulator", "bench", "tests"}
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in _imports(path) if m.split(".")[0] in outside)
        for path in PACKAGE.rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


SQL_HOMES = (PACKAGE / "storage", PACKAGE / "db.py", PACKAGE / "migrations")
_RUNS_SQL = frozenset({"execute", "executemany", "executescript"})


def _sql_calls(path: Path) -> list[str]:
    """`line: statement` of every `.execute()`, `.executemany()` or `.executescript()` call in
    `path` (in this package they all run SQL, whatever holds the statement)."""
    return [
        f"{node.lineno}: {ast.unparse(node.args[0]) if node.args else ''}"[:100]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _RUNS_SQL
    ]


def test_no_sql_runs_outside_the_storage_layer_the_connection_and_the_migrations() -> None:
    offenders = {
        str(path.relative_to(ROOT)): calls
        for path in sorted(PACKAGE.rglob("*.py"))
        if not any(path == home or home in path.parents for home in SQL_HOMES) and (calls := _sql_calls(path))
    }
    assert offenders == {}
