"""The simulator is an independent reading of the API: it imports nothing from the client side."""

from __future__ import annotations

import ast
from pathlib import Path

import scf_batch.sim

SIM_DIR = Path(scf_batch.sim.__file__).parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_simulator_imports_only_itself_from_scf_batch() -> None:
    """No module of scf_batch.sim imports scf_batch outside scf_batch.sim."""
    outside = {
        f"{path.name}: {module}"
        for path in SIM_DIR.glob("*.py")
        for module in imported_modules(path)
        if module.startswith("scf_batch") and not module.startswith("scf_batch.sim")
    }
    assert outside == set()
