"""Layering: arrows only go up (model -> runtimes -> export -> bench/serve -> commands/cli), and no import cycles.

The static check reads every import statement, lazy ones inside functions included; the dynamic check imports
each layer in a fresh interpreter, bottom first, and looks at what got loaded.
"""
import ast
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# areas from the bottom up; each may import only the areas listed for it (and itself)
ALLOWED = {
    "lsnet": set(),
    "lsnet.runtimes": {"lsnet"},
    "lsnet.export": {"lsnet", "lsnet.runtimes"},
}
TOP_AREAS = ("lsnet.__main__", "lsnet.cli", "lsnet.commands", "lsnet.serve", "lsnet.bench", "lsnet.export", "lsnet.runtimes")


def package_roots() -> dict[str, str]:
    """setup.py's ``PACKAGE_ROOTS`` (import name -> folder), read without running setup()."""
    tree = ast.parse((REPO / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "PACKAGE_ROOTS" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("setup.py defines no PACKAGE_ROOTS")


def module_files() -> dict[str, Path]:
    """Every importable module of the project, by its installed name."""
    modules = {}
    for name, folder in package_roots().items():
        for path in (REPO / folder).rglob("*.py"):
            parts = list(path.relative_to(REPO / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join([name, *parts])] = path
    return modules


def import_graph() -> dict[str, set[str]]:
    """module -> project modules it imports (``from pkg import sub`` counts as importing ``pkg.sub``)."""
    modules = module_files()
    graph = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                subs = {f"{node.module}.{a.name}" for a in node.names} & modules.keys()
                targets.update(subs or {node.module})
                if len(subs) < len(node.names):
                    targets.add(node.module)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def area(module: str) -> str:
    """The layer a module belongs to."""
    for top in TOP_AREAS:
        if module == top or module.startswith(top + "."):
            return top
    return "lsnet"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_lower_layers_import_nothing_above_them():
    upward = [
        f"{module} imports {target}"
        for module, targets in import_graph().items() if area(module) in ALLOWED
        for target in sorted(targets) if area(target) != area(module) and area(target) not in ALLOWED[area(module)]
    ]
    assert upward == []


def test_each_layer_imports_alone_in_a_fresh_interpreter():
    """Importing every module of a layer (bottom first) loads nothing from a layer above it."""
    graph = import_graph()
    order = ["lsnet", "lsnet.runtimes", "lsnet.export"]
    script = f"""
import importlib, json, sys
order, modules = {order!r}, {sorted(graph)!r}
top = {TOP_AREAS!r}
def area(m):
    return next((t for t in top if m == t or m.startswith(t + ".")), "lsnet")
report = {{}}
for layer in order:
    for m in modules:
        if area(m) == layer:
            try:
                importlib.import_module(m)
            except ModuleNotFoundError as exc:  # an optional extra that is not installed here
                if (exc.name or "").startswith("lsnet"):
                    raise
    report[layer] = sorted({{area(m) for m in sys.modules if m.startswith("lsnet")}})
print(json.dumps(report))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    for position, layer in enumerate(order):
        assert set(loaded[layer]) <= set(order[: position + 1]), (layer, loaded[layer])
