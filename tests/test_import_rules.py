"""The import rules of docs/architecture.md, read from the source of every module (ast),
not by importing it: layers point one way, no module cycles, and nothing a torch-free
CPU install loads imports torch, CuPy, TensorRT, PyCUDA, OpenVINO or PyNvVideoCodec at
module level."""

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("yolact", "engines", "pipeline")
HEAVY = {"torch", "cupy", "cupyx", "tensorrt", "pycuda", "openvino", "PyNvVideoCodec", "onnxscript"}
# the method's PyTorch half: these import torch at module level, and only they may
TORCH_MODULES: set[str] = set()  # filled below: every module of yolact.nn
# who may reach the PyTorch half at all (inside functions): the torch backend, and the
# commands that export and train
TORCH_USERS = {
    "engines.torch",
    "pipeline.cli.export",
    "pipeline.cli.train",
    "yolact.reduced_precision",
} | TORCH_MODULES
LAYERS = {"yolact": set(), "engines": {"yolact"}, "pipeline": {"engines", "yolact"}}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()
TORCH_MODULES.update(name for name in MODULES if name == "yolact.nn" or name.startswith("yolact.nn."))


def _imports(path: Path):
    """(imported module, top level?) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module_name = next(name for name, p in MODULES.items() if p == path)
    package = module_name if path.name == "__init__.py" else module_name.rpartition(".")[0]
    nested = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nested.update(id(child) for child in ast.walk(node) if child is not node)
    for node in ast.walk(tree):
        top = id(node) not in nested
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, top
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module
            yield target, top
            for alias in node.names:  # "from pipeline import sinks" imports a module
                if f"{target}.{alias.name}" in MODULES:
                    yield f"{target}.{alias.name}", top


def _internal(target: str) -> str | None:
    """The project module an import resolves to, if any."""
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target or None


GRAPH = {name: [(target, top) for target, top in _imports(path)] for name, path in MODULES.items()}


def test_every_module_is_read():
    assert len(MODULES) > 60 and "pipeline.runner" in MODULES and "engines.base" in MODULES


@pytest.mark.parametrize("module", sorted(MODULES))
def test_layers_point_one_way(module):
    layer = module.split(".")[0]
    for target, _ in GRAPH[module]:
        other = target.split(".")[0]
        if other in LAYERS and other != layer:
            assert other in LAYERS[layer], (
                f"{module} imports {target}: {layer} may import only {sorted(LAYERS[layer])}"
            )


@pytest.mark.parametrize("module", sorted(MODULES))
def test_torch_free_modules_stay_torch_free(module):
    for target, top in GRAPH[module]:
        root = target.split(".")[0]
        if top and root in HEAVY:
            assert module in TORCH_MODULES, f"{module} imports {target} at module level"
        internal = _internal(target)
        if internal in TORCH_MODULES and module not in TORCH_MODULES:
            assert not top, f"{module} imports the PyTorch module {internal} at module level"
            assert module in TORCH_USERS, f"{module} reaches the PyTorch module {internal}"


def test_no_import_cycles():
    edges = defaultdict(set)
    for module, imports in GRAPH.items():
        for target, _ in imports:
            internal = _internal(target)
            if internal and internal != module and not module.startswith(internal + "."):
                edges[module].add(internal)
    state, cycles = {}, []

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                cycles.append(trail[trail.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for module in sorted(MODULES):
        if module not in state:
            visit(module, [module])
    assert not cycles, " ; ".join(" -> ".join(cycle) for cycle in cycles)
