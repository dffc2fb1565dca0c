"""The layout keeps its promises: imports point one way, no circles, small modules, private names stay home."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "wdlab"

# The documented direction (docs/ARCHITECTURE.md): a part may import its own modules and any part of a lower layer,
# never one of its own layer or above.
LAYERS = [
    ("errors", "heap"),
    ("registry",),
    ("settings",),
    ("data",),
    ("frame", "laws"),
    ("engine", "reference"),
    ("run", "plots", "quiz", "codegen"),
    ("cli",),
    ("ui",),
    ("__main__",),
]
RANK = {part: i for i, parts in enumerate(LAYERS) for part in parts}
TOP_LEVEL_MODULES = 8
MAX_LINES = 400
# heavy libraries a light part never imports at module level (function-local imports that defer them are allowed)
LIGHT = {"registry": ("torch", "pandas", "sklearn", "plotly", "streamlit"),
         "settings": ("torch", "pandas", "numpy", "sklearn", "plotly", "streamlit"),
         "frame": ("torch", "streamlit"), "laws": ("torch", "streamlit"), "plots": ("torch", "streamlit"), "codegen": ("torch", "streamlit")}


def modules() -> dict[str, tuple[Path, ast.Module]]:
    found = {}
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        found[name] = (path, ast.parse(path.read_text(), str(path)))
    return found


MODULES = modules()


def imported(name: str, path: Path, node: ast.AST) -> list[str]:
    """The wdlab modules an import statement names (absolute; `from wdlab.x import y` counts y if it is a module)."""
    if isinstance(node, ast.Import):
        cands = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:  # the layout uses absolute imports; resolve a relative one all the same
            pkg = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
            base = ".".join(pkg[: len(pkg) - node.level + 1] + ([base] if base else []))
        cands = [f"{base}.{a.name}" for a in node.names] + [base]
    out = []
    for c in cands:
        while c and c not in MODULES:
            c = c.rpartition(".")[0]
        if c and c != name and not name.startswith(c + "."):  # a module's own package is not an arrow
            out.append(c)
    return out


def edges(module_level_only: bool = False) -> dict[str, set[str]]:
    result = {}
    for name, (path, tree) in MODULES.items():
        nodes = tree.body if module_level_only else list(ast.walk(tree))
        result[name] = {t for n in nodes if isinstance(n, (ast.Import, ast.ImportFrom)) for t in imported(name, path, n)}
    return result


def part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "wdlab"


def test_every_part_has_a_layer_and_says_what_it_owns():
    for name, (path, tree) in MODULES.items():
        if name == "wdlab":
            continue
        assert part(name) in RANK, f"{path}: part {part(name)!r} is not in the documented layers"
        if path.name == "__init__.py":
            assert ast.get_docstring(tree), f"{path} says nothing about what its part owns"


def test_imports_point_down_the_layers_function_local_ones_included():
    wrong = []
    for a, targets in edges().items():
        for b in targets:
            pa, pb = part(a), part(b)
            if pa != pb and b != "wdlab" and RANK[pb] >= RANK[pa]:
                wrong.append(f"{a} imports {b} ({pa} → {pb})")
    assert not wrong, "imports against the documented direction:\n" + "\n".join(sorted(wrong))


def test_no_import_circle_function_local_imports_included():
    graph = edges()
    state: dict[str, int] = {}
    circles = []

    def visit(n: str, stack: list[str]) -> None:
        state[n] = 1
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                circles.append(" → ".join(stack[stack.index(m):] + [n, m]) if m in stack else f"{n} → {m}")
            elif m not in state:
                visit(m, stack + [n])
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n, [])
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_only_the_ui_imports_streamlit_and_light_parts_stay_light():
    for name, (path, tree) in MODULES.items():
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            if any(n.split(".")[0] == "streamlit" for n in names):
                assert part(name) == "ui", f"{path} imports streamlit outside wdlab/ui"
        for node in tree.body:
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            heavy = [n for n in names if n.split(".")[0] in LIGHT.get(part(name), ())]
            assert not heavy, f"{path} imports {heavy} at module level; its part must stay light"
    jobs = MODULES["wdlab.run.jobs"][1]
    assert not [n for n in ast.walk(jobs) if isinstance(n, ast.Import) and any(a.name == "torch" for a in n.names)], \
        "the job manager knows no torch: it receives rows"


def test_the_reference_shares_no_code_with_the_engine_it_checks():
    assert not {t for t in edges()["wdlab.reference"] if part(t) == "engine"}


def test_small_modules_and_a_short_top_level():
    long = [f"{p.relative_to(PKG.parent)}: {len(p.read_text().splitlines())} lines"
            for p, _ in MODULES.values() if len(p.read_text().splitlines()) > MAX_LINES]
    assert not long, f"modules over {MAX_LINES} lines:\n" + "\n".join(long)
    top = [p.name for p in PKG.glob("*.py")]
    assert len(top) <= TOP_LEVEL_MODULES, top


def test_no_private_name_is_used_across_modules():
    crossing = []
    for name, (path, tree) in MODULES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for a in node.names:
                    if a.name.startswith("_") and not a.name.startswith("__"):
                        crossing.append(f"{name} imports {a.name} from {node.module}")
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                base = node.value
                if isinstance(base, ast.Name) and base.id in _module_aliases(tree):
                    crossing.append(f"{name} uses {base.id}.{node.attr}")
    assert not crossing, "private names used across modules:\n" + "\n".join(sorted(set(crossing)))


def _module_aliases(tree: ast.Module) -> set[str]:
    """Names bound to a wdlab module by an import in this file."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("wdlab"):
            names |= {a.asname or a.name for a in node.names if f"{node.module}.{a.name}" in MODULES}
        elif isinstance(node, ast.Import):
            names |= {a.asname or a.name for a in node.names if a.name.startswith("wdlab")}
    return names


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_function_local_import_defers_a_heavy_import_and_says_so(module):
    """Every import inside a function carries a comment with "defer" (on its line or the line above) saying what it
    keeps out of start-up (torch, sklearn, ray, the engine behind a light CLI ...); none hides a circle (above)."""
    path, tree = MODULES[module]
    lines = path.read_text().splitlines()
    silent = []
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    near = " ".join(lines[max(0, node.lineno - 2): node.end_lineno])
                    if "defer" not in near:
                        silent.append(f"line {node.lineno}: {lines[node.lineno - 1].strip()}")
    assert not silent, f"{path}: function-local imports that do not say what they defer:\n" + "\n".join(silent)
