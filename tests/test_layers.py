"""Folders are layers and imports point down: walked with `ast`, lazy imports included."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "autogradcli"
# Lowest first; a module may import its own layer and the layers below it.
LAYERS = [
    {"errors", "ops"},
    {"graph"},
    {"language", "io"},
    {"engines"},
    {"codegen", "tensors", "verify"},
    {"render"},
    {"cli"},
]
# The only cycles allowed, each on purpose:
ALLOWED_CYCLES = [
    # ops/__init__ defines the registry, then imports each family, which registers its ops.
    {"autogradcli.ops", "autogradcli.ops.arith", "autogradcli.ops.compare",
     "autogradcli.ops.elementwise", "autogradcli.ops.reductions", "autogradcli.ops.shape",
     "autogradcli.ops.special", "autogradcli.ops.axes", "autogradcli.ops.layout"},
    # Tensor.backward calls the reverse sweep in autograd, which builds on Tensor (lazily).
    {"autogradcli.tensors.tensor", "autogradcli.tensors.autograd"},
]  # fmt: skip


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every package module `name` imports, at module level or inside functions."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("autogradcli")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("autogradcli"):
                target = node.module
            else:
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in known else target)
    return {m for m in out if m in known and m != name}


def layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:
        return 0  # the package itself: a version and lazy names, imported by name only
    if parts[1] == "__main__":
        return len(LAYERS)
    return next(k for k, names in enumerate(LAYERS) if parts[1] in names)


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_every_folder_is_a_layer():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    files = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    assert folders | files == set().union(*LAYERS)


def test_imports_point_down():
    upward = [
        f"{name} imports {dep}"
        for name, deps in graph().items()
        for dep in deps
        if layer(dep) > layer(name)
    ]
    assert upward == []


def test_no_import_cycles_but_the_named_ones():
    edges = graph()
    cycles = []
    for start in edges:  # every module from which a path leads back to itself
        stack, seen = [start], set()
        while stack:
            node = stack.pop()
            for dep in edges[node]:
                if dep == start:
                    cycles.append(start)
                    stack.clear()
                    break
                if dep not in seen:
                    seen.add(dep)
                    stack.append(dep)
    allowed = set().union(*ALLOWED_CYCLES)
    assert sorted(set(cycles) - allowed) == []


def _has_code(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(not isinstance(node, ast.Expr) for node in tree.body)


def test_every_module_is_imported_by_a_test():
    tests = Path(__file__).resolve().parent
    imported: set[str] = set()
    for path in [*tests.rglob("test_*.py"), tests / "conftest.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
                imported |= {f"{node.module}.{a.name}" for a in node.names}
    missing = [
        name
        for name, path in modules().items()
        if name.count(".") and not name.endswith("__main__") and _has_code(path)
        and name not in imported
    ]  # fmt: skip
    assert missing == []


def _folder(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] != "__main__" else None


def drawn_arrows() -> set[tuple[str, str]]:
    """The arrows of the picture in docs/architecture.md (`a --> b & c` is two arrows)."""
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = text.split("```mermaid", 1)[1].split("```", 1)[0]
    arrows = set()
    for line in block.splitlines():
        if "-->" in line:
            src, _, targets = line.partition("-->")
            arrows |= {(src.strip(), t.strip()) for t in targets.split("&")}
    return arrows


def test_the_architecture_picture_draws_the_real_imports():
    real = {
        (_folder(name), _folder(dep))
        for name, deps in graph().items()
        for dep in deps
        if _folder(name) and _folder(dep) and _folder(name) != _folder(dep)
    }
    real = {(a, b) for a, b in real if b != "errors"}  # imported by every folder, not drawn
    drawn = drawn_arrows()
    assert sorted(drawn - real) == [], "arrows with no import behind them"
    assert sorted(real - drawn) == [], "imports the picture does not draw"
