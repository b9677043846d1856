"""The structure rules of STYLE.md, held by tests: dependencies point one way."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "scf_batch"
PURE = ["models.py", "jobfile.py", "retry.py", "errors.py", "catalog.py", "conflicts.py"]
IO_LIBRARIES = {"aiohttp", "anyio", "structlog", "aiolimiter"}


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_simulator_imports_nothing_from_the_client_side() -> None:
    """Every module of scf_batch/sim imports only from scf_batch.sim (an independent reading)."""
    offenders = {
        f"{path.name}: {name}"
        for path in (PACKAGE / "sim").rglob("*.py")
        for name in imports(path)
        if name.startswith("scf_batch") and not name.startswith("scf_batch.sim")
    }
    assert offenders == set()


def test_pure_modules_do_no_io() -> None:
    """The pure core imports no HTTP, async or logging library."""
    offenders = {
        f"{name}: {module}"
        for name in PURE
        if (PACKAGE / name).exists()
        for module in imports(PACKAGE / name)
        if module.split(".")[0] in IO_LIBRARIES
    }
    assert offenders == set()


def test_only_the_client_speaks_http() -> None:
    """Outside the simulator, close_client.py is the only module that imports aiohttp."""
    users = {
        path.name
        for path in PACKAGE.glob("*.py")
        if any(m.split(".")[0] == "aiohttp" for m in imports(path))
    }
    assert users == {"close_client.py"}
