"""The package's layers, as `.importlinter` declares them, and no import circle.

Each layer imports only the layers below it, so a reader follows any command down in three hops
(its argument module, the action it calls, the state that action reads) and never back up. The
imports are read from the source (inside functions and under TYPE_CHECKING too), as import-linter
reads them; a circle between two files or two packages fails here as a layer breach does.
"""

from __future__ import annotations

import ast
import configparser
from pathlib import Path

import pytest

from .clones import REPO_ROOT

PACKAGE = "dvc_workshop"


def module_files(root: Path) -> dict[str, Path]:
    """Every module of the package under `root` by dotted name (a package by its __init__.py)."""
    found = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        found[".".join(parts[:-1] if path.name == "__init__.py" else parts)] = path
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (`from a import b` counts a.b where b is one)."""
    files = module_files(root)
    graph = {}
    for module, path in files.items():
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
        graph[module] = {name for name in names if name in files and name != module}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected parts of more than one node (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    part = []
                    while (member := stack.pop()) != node:
                        part.append(member)
                    if part:
                        found.append(sorted([node, *part]))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in stack:
                low[node] = min(low[node], index[child])
    return found


def unit(module: str, files: dict[str, Path]) -> str:
    """The package a module belongs to (a package is its own), or for a module at the package's
    top level (cli, params), the module itself."""
    if files[module].name == "__init__.py" or module.count(".") == 1:
        return module
    return module.rpartition(".")[0]


def package_graph(graph: dict[str, set[str]], files: dict[str, Path]) -> dict[str, set[str]]:
    """The import graph between packages: an import inside one package, or between a package and
    the packages that contain it, is no edge."""
    packages: dict[str, set[str]] = {}
    for module, imported in graph.items():
        source = unit(module, files)
        for target in map(lambda name: unit(name, files), imported):
            if not (source == target or target.startswith(f"{source}.") or source.startswith(f"{target}.")):
                packages.setdefault(source, set()).add(target)
    return packages


def layer_contracts(config: Path) -> list[tuple[str, list[list[str]]]]:
    """Each layers contract of `config`: its name and its layers, top first, each a list of
    sibling modules (containers expanded)."""
    parser = configparser.ConfigParser()
    parser.read(config)
    contracts = []
    for section in parser.sections():
        if not section.startswith("importlinter:contract:") or parser[section]["type"] != "layers":
            continue
        layers = [
            [name.strip() for name in line.split("|")] for line in parser[section]["layers"].split("\n")
        ]
        layers = [layer for layer in layers if layer != [""]]
        containers = parser[section].get("containers", "").split() or [""]
        for container in containers:
            prefix = f"{container}." if container else ""
            contracts.append((parser[section]["name"], [[prefix + n for n in layer] for layer in layers]))
    return contracts


def breaches(graph: dict[str, set[str]], layers: list[list[str]]) -> list[str]:
    """Imports from a layer up to one above it, or across siblings of one line."""

    def position(module: str) -> tuple[int, str] | None:
        for number, layer in enumerate(layers):
            for member in layer:
                if module == member or module.startswith(f"{member}."):
                    return number, member
        return None

    found = []
    for module, imported in sorted(graph.items()):
        here = position(module)
        for target in sorted(imported):
            there = position(target)
            if here and there and (there[0] < here[0] or (there[0] == here[0] and there[1] != here[1])):
                found.append(f"{module} imports {target}")
    return found


def problems(root: Path) -> list[str]:
    """Every layer breach and circle of the package under `root`, as its contracts declare them."""
    files, graph = module_files(root), import_graph(root)
    found = [f"{name}: {line}" for name, layers in layer_contracts(root / ".importlinter")
             for line in breaches(graph, layers)]  # fmt: skip
    found += [f"files in a circle: {' <-> '.join(part)}" for part in circles(graph)]
    found += [f"packages in a circle: {' <-> '.join(part)}" for part in circles(package_graph(graph, files))]
    return found


def test_the_package_keeps_its_layers_and_has_no_circle() -> None:
    assert problems(REPO_ROOT) == []


def test_every_module_is_in_a_layer() -> None:
    """A new package or top-level module is given its place in `.importlinter`."""
    contracts = layer_contracts(REPO_ROOT / ".importlinter")
    members = [member for _, layers in contracts for layer in layers for member in layer]
    top = {module.split(".")[1] for module in module_files(REPO_ROOT) if module.count(".") >= 1}
    placed = {member.split(".")[1] for member in members if member.count(".") == 1}
    assert top <= placed, f"not in .importlinter's project layers: {sorted(top - placed)}"
    lab = {module.split(".")[2] for module in module_files(REPO_ROOT) if module.startswith(f"{PACKAGE}.lab.")}
    lab_placed = {member.split(".")[2] for member in members if member.startswith(f"{PACKAGE}.lab.")}
    assert lab - {"__main__"} <= lab_placed, f"not in .importlinter's lab layers: {sorted(lab - lab_placed)}"


def printing_below_commands(root: Path) -> list[str]:
    """Each print() or sys.stdout/stderr write in the lab's layers below `commands/`, as FILE:LINE.

    Actions return what happened (lines, a verdict, a table's data) and commands print it; where a
    line must show as it happens (a check's table, the doctor's items, a solution's blocks) the
    command passes a callback. A print below would bypass that, as `dvc/repo/` never prints."""
    found = []
    for module, path in module_files(root).items():
        if not module.startswith(f"{PACKAGE}.lab.") or module.startswith(f"{PACKAGE}.lab.commands"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.Call):
                continue
            called = node.func
            streams = ("sys.stdout", "sys.stderr")
            stream = isinstance(called, ast.Attribute) and ast.unparse(called.value) in streams
            if (isinstance(called, ast.Name) and called.id == "print") or stream:
                found.append(f"{path.relative_to(root).as_posix()}:{node.lineno}")
    return found


def test_below_commands_nothing_prints() -> None:
    assert printing_below_commands(REPO_ROOT) == []


def test_a_print_below_commands_is_found(tmp_path: Path) -> None:
    (tmp_path / PACKAGE / "lab/actions").mkdir(parents=True)
    (tmp_path / PACKAGE / "lab/commands").mkdir(parents=True)
    (tmp_path / PACKAGE / "lab/actions/check.py").write_text("import sys\nprint(1)\nsys.stderr.write('')\n")
    (tmp_path / PACKAGE / "lab/commands/lab.py").write_text("print('said here')\n")
    assert printing_below_commands(tmp_path) == ["dvc_workshop/lab/actions/check.py:2",
                                                 "dvc_workshop/lab/actions/check.py:3"]  # fmt: skip


@pytest.fixture
def tangled(tmp_path: Path) -> Path:
    """A package of the same contracts with one breach upward and two circles."""
    (tmp_path / ".importlinter").write_text((REPO_ROOT / ".importlinter").read_text())
    files = {
        "__init__.py": "",
        "data/__init__.py": "",
        "data/a.py": "from dvc_workshop.params import X\n",
        "params.py": "from dvc_workshop.data.a import Y\n",
        "lab/__init__.py": "",
        "lab/model/__init__.py": "",
        "lab/model/lab.py": "def f():\n    from dvc_workshop.lab.actions.check import check\n",
        "lab/actions/__init__.py": "",
        "lab/actions/check.py": "from dvc_workshop.lab.model import lab\n",
    }
    for name, text in files.items():
        (tmp_path / PACKAGE / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / PACKAGE / name).write_text(text)
    return tmp_path


def test_a_breach_and_circles_are_found(tangled: Path) -> None:
    found = problems(tangled)
    assert any(line.endswith("dvc_workshop.data.a imports dvc_workshop.params") for line in found), found
    assert any(
        line.endswith("dvc_workshop.lab.model.lab imports dvc_workshop.lab.actions.check") for line in found
    )
    assert "files in a circle: dvc_workshop.data.a <-> dvc_workshop.params" in found
    assert "packages in a circle: dvc_workshop.lab.actions <-> dvc_workshop.lab.model" in found
