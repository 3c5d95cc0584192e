"""``gan_core`` is a plain library in rooms: each subpackage imports only from the rooms below
it, no module imports itself back through others, and nothing in it imports Streamlit.

The rooms, lowest first (``docs/design.md`` says what each holds and why this order):
``data`` (your curves: reading and checking them), ``gan`` (what a run is and how one step
trains), ``measure`` (numbers computed from networks and history), ``files`` (checkpoints, the
PyTorch script, links), ``training`` (a run over time: trainer, ghosts, snapshots, grids),
``views`` (what a page draws of a run), ``serve`` (many visitors on one server). Top-level
helpers (``threads``) sit below every room; the public facades (``__init__``, ``pytorch``,
``dirac``) above them all.

``data`` sits below ``gan``: curves are plain, checked data with no notion of a GAN (a notebook
reads and checks a file without the engine), while the target family that samples them is a
GAN's notion and lives with the other families in ``gan.targets``, where the engine, the
metrics and the charts find every target the same way.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gan_core"
ROOMS = ("data", "gan", "measure", "files", "training", "views", "serve")
BELOW_ALL = {"gan_core.threads"}
FACADES = {"gan_core", "gan_core.pytorch", "gan_core.dirac"}
"""``gan_core.dirac`` is the public name of the two-parameter GAN under a run's settings; it
lives in ``gan`` (``gan.dirac``), beside the config, losses and Adam it is built on, where the
views that draw it can reach it."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(path: Path) -> set[str]:
    """The modules of ``gan_core`` (and any other top-level packages) that ``path`` imports
    when it runs, at its top or inside a function; imports for type checkers only are left
    out, as they never run."""
    tree = ast.parse(path.read_text())
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            for alias in node.names:  # `from . import x` imports the module x
                candidate = f"{module}.{alias.name}"
                if _exists(candidate):
                    found.add(candidate)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _exists(module: str) -> bool:
    rel = Path(*module.split("."))
    root = PACKAGE.parent
    return (root / rel).with_suffix(".py").exists() or (root / rel / "__init__.py").exists()


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {name: {m for m in imports(path) if m in MODULES and m != name}
         for name, path in MODULES.items()}


def room(module: str) -> int:
    """The module's floor: -1 below every room, len(ROOMS) above them all."""
    if module in BELOW_ALL:
        return -1
    if module in FACADES:
        return len(ROOMS)
    parts = module.split(".")
    assert len(parts) >= 2 and parts[1] in ROOMS, f"{module} is in no room: put it in one"
    return ROOMS.index(parts[1])


def test_every_module_lives_in_a_room_or_is_a_named_helper_or_facade() -> None:
    for module in MODULES:
        room(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_from_its_own_room_and_those_below(module: str) -> None:
    upward = sorted(m for m in GRAPH[module] if room(m) > room(module))
    assert upward == [], f"{module} imports from a room above its own: {upward}"


def test_no_module_imports_itself_back_through_others() -> None:
    cycles = [sorted(c) for c in _strongly_connected(GRAPH) if len(c) > 1]
    assert cycles == [], f"import circles: {cycles}"


def test_the_library_never_imports_streamlit() -> None:
    users = sorted(name for name, path in MODULES.items()
                   if any(m.split(".")[0] == "streamlit" for m in imports(path)))
    assert users == []


def test_the_checker_sees_an_import_circle_and_an_upward_import() -> None:
    assert [sorted(c) for c in _strongly_connected({"a": {"b"}, "b": {"a"}, "c": set()})
            if len(c) > 1] == [["a", "b"]]
    assert room("gan_core.gan.engine") < room("gan_core.training.trainer")
    # Every room holds at least one module, so the order above is not a list of wishes.
    assert {m.split(".")[1] for m in MODULES if m.count(".") >= 1
            and m.split(".")[1] in ROOMS} == set(ROOMS)


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the graph's strongly connected components."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            out.append(component)

    for v in graph:
        if v not in index:
            connect(v)
    return out
