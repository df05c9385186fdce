"""The package's import graph: every module imports alone, there are no cycles, and the layers
depend one way only.

Layers, lowest first (a module imports only from its own layer or below):

0. `cimforge.params`: parameters, presets, wire formats, shared tables (plain Python);
1. `cimforge.hdl` (Amaranth) and `cimforge.golden` (numpy), which never import each other;
2. the block registry, Verilog emission, the FPGA flow (`cimforge.fpga`), workloads;
3. the verification infrastructure (`cimforge.verif`: harness, drivers, testbenches);
4. the commands that run it: CLI, bench, demo;
5. the tests (`test_*` modules under `cimforge.verif`).

Imports inside functions count as edges too, so a cycle cannot hide in one.
"""

import ast
import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

# The package-dir mapping of pyproject.toml: each top-level package has a folder of its own.
PACKAGE_DIRS = {name: Path(importlib.import_module(name).__file__).parent
                for name in ("cimforge", "cimforge.hdl", "cimforge.golden", "cimforge.fpga",
                             "cimforge.verif")}
ROOT = PACKAGE_DIRS["cimforge"].parent


def modules() -> dict[str, Path]:
    found = {}
    for package, root in PACKAGE_DIRS.items():
        for path in root.rglob("*.py"):
            parts = [p for p in path.relative_to(root).with_suffix("").parts if p != "__init__"]
            found[".".join([package, *parts])] = path
    return found


MODULES = modules()


def imports_of(name: str, path: Path) -> set[str]:
    """The package modules `name` imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                root = ".".join(base + ([node.module] if node.module else []))
            else:
                root = node.module
            targets = [root] + [f"{root}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


GRAPH = {name: imports_of(name, path) for name, path in MODULES.items()}


COMMANDS = ("cimforge.cli", "cimforge.bench", "cimforge.bench_cim", "cimforge.bench_nir",
            "cimforge.bench_raca",
            "cimforge.demo", "cimforge.runner")


def is_test(name: str) -> bool:
    return name.rpartition(".")[2].startswith("test_")


def layer(name: str) -> int:
    if name.startswith("cimforge.params"):
        return 0
    if name.startswith(("cimforge.hdl", "cimforge.golden")):
        return 1
    if name.startswith("cimforge.verif") and is_test(name):
        return 5
    if name in COMMANDS:
        return 4
    if name.startswith("cimforge.verif"):
        return 3
    return 2


def test_no_import_cycles():
    # Tarjan's strongly connected components; a component of more than one module is a cycle.
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in GRAPH:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_layers_depend_one_way():
    wrong = [f"{a} -> {b}" for a, targets in GRAPH.items() for b in targets
             if layer(b) > layer(a) or (layer(a) == layer(b) == 1
                                        and a.split(".")[1] != b.split(".")[1])]
    assert not wrong, "imports against the layering:\n" + "\n".join(sorted(wrong))


def test_golden_and_params_import_no_amaranth():
    for name, path in MODULES.items():
        if layer(name) == 0 or name.startswith("cimforge.golden"):
            source = path.read_text()
            assert "import amaranth" not in source and "from amaranth" not in source, name


@pytest.mark.parametrize("name", sorted(n for n in MODULES
                                        if not n.rpartition(".")[2].startswith("tb_")))
def test_module_imports_alone(name):
    """In a fresh interpreter, so no other module's import hides a missing or circular one.
    (The cocotb testbenches `tb_*` need a simulator to import.)"""
    result = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_every_package_is_listed_in_pyproject():
    """A folder missing from `packages` imports in the editable install but is left out of a
    wheel."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    packages = {name for name, path in MODULES.items() if path.name == "__init__.py"}
    assert packages == listed, f"missing: {sorted(packages - listed)}, stale: {sorted(listed - packages)}"
