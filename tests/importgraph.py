"""The package's import graph, read from its source (the layer test and bench/structure.py)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path


def modules(package: Path) -> Iterator[tuple[str, Path]]:
    """Every module below `package` (a folder), by dotted name (`scf_batch.plan.steps`)."""
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        yield ".".join(parts), path


def imports(name: str, path: Path) -> set[str]:
    """Every module the file imports, relative imports resolved (`from .x import y` included)."""
    found: set[str] = set()
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - (node.level - 1)] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            # `from scf_batch.plan import steps` imports the module scf_batch.plan.steps
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def project_imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's own modules the file imports (names that are modules of the package); a
    package is left out where one of its modules is named (`from scf_batch.plan import steps`)."""
    found = {module for module in imports(name, path) if module in known and module != name}
    return {m for m in found if not any(other.startswith(m + ".") for other in found)}


def unit_of(module: str) -> str:
    """The top-level module or subpackage a module belongs to (`plan` for scf_batch.plan.steps)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def longest_chain(known: dict[str, Path]) -> list[str]:
    """The longest path of imports between the package's modules (an edge back to a module on the
    path being walked is not followed, so a cycle counts once)."""
    edges = {name: sorted(project_imports(name, path, known)) for name, path in known.items()}
    longest: dict[str, list[str]] = {}
    walking: set[str] = set()

    def deepest(node: str) -> list[str]:
        if node not in longest:
            walking.add(node)
            below = [deepest(n) for n in edges[node] if n not in walking]
            walking.discard(node)
            longest[node] = [node, *max(below, key=len, default=[])]
        return longest[node]

    return max((deepest(name) for name in known), key=len, default=[])
