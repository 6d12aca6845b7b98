"""The folders are the architecture: each layer imports only the layers below it.

errors → speedups (the speed tricks, which import nothing of coinpurse) → core (the domain)
→ formats (text around it) → storage (where ledgers live) → the library (the top-level
modules) → cli. Read from the source, so a lazy import
inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "coinpurse"
LAYERS = ["errors", "speedups", "core", "formats", "storage", "library", "cli"]


def _layer(module: str) -> str:
    """The layer of a dotted name inside the package: coinpurse.core.rules is core; coinpurse.api is the library."""
    parts = module.split(".")
    if module == "coinpurse.__main__":
        return "cli"  # python -m coinpurse: the command line
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else "library"  # coinpurse itself: the library


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] == "coinpurse"}


def test_no_layer_imports_one_above_it() -> None:
    wrong = []
    for path in sorted(SRC.rglob("*.py")):
        module = ".".join(("coinpurse", *path.relative_to(SRC).with_suffix("").parts)).removesuffix(".__init__")
        here = LAYERS.index(_layer(module))
        for name in sorted(_imports(path)):
            if name in ("coinpurse", "coinpurse.__version__"):
                continue
            if LAYERS.index(_layer(name)) > here:
                wrong.append(f"{module} imports {name}")
    assert not wrong, "\n".join(wrong)
