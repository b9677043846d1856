"""The structure of the package, held by tests: each module's allowed imports, layer by layer.

A module may import only what its line below allows. A new import that is not listed fails,
as does a listed module that no longer exists and a module that is not listed at all: a change
of structure is a change to this table, made on purpose and seen in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "scf_batch"

# the pure core: values, rules, plans and the file formats; no HTTP, async or logging library
DOMAIN = {
    "models": set(),
    "errors": {"models"},  # for type hints only
    "exitcodes": set(),
    "text": set(),
}
RULES = {
    "rowrules": {"models", "text"},
    "conflicts": {"models"},
    "csvrows": {"errors", "models", "rowrules", "text"},
    "jsonlrows": {"definitions", "errors", "models", "rowrules", "text"},
    "opsfile": {"conflicts", "csvrows", "definitions", "errors", "jsonlrows", "models", "rowrules"},
    "definitions": {"models", "rowrules", "text"},
    "options": {"errors"},
    "jobspec": {"errors", "opsfile", "options", "text"},
    "credentials": {"errors"},
    "redact": set(),
    "retry": {"errors"},
    "snapshot": {"errors", "models", "rowrules", "text"},
    "plan": {"models", "snapshot"},
    "fieldplan": {"definitions", "models", "plan", "snapshot", "text"},
    "lacking": {"definitions", "models", "rowrules", "snapshot"},
    "prepare": {
        "definitions",
        "errors",
        "fieldplan",
        "lacking",
        "models",
        "opsfile",
        "plan",
        "snapshot",
    },
    "fieldview": {"fieldplan", "plan"},
    "planview": {"fieldview", "models", "plan", "prepare", "snapshot"},
    "export": {"definitions", "models", "rowrules", "snapshot"},
    "results": {"models"},
    "runfolder": {"errors", "models", "results"},
    "summary": {"exitcodes", "models", "results", "snapshot"},
}
# after a run: the pass's files read back into retry files, reports, CSVs and a page
AFTER_RUN = {
    "rawrows": {"csvrows", "errors", "jsonlrows", "opsfile", "rowrules"},
    "passfiles": {"errors", "opsfile", "results", "runfolder"},
    "retryfile": {"models", "opsfile", "rawrows", "results", "runfolder"},
    "resultscsv": {"rawrows", "retryfile"},
    "reopen": {"errors", "models", "results", "runfolder"},
    "passreport": {"models", "passfiles", "results", "resultscsv", "runfolder", "summary"},
    "htmlreport": set(),
}
# the edges: the one HTTP client, pacing, retries, the pipeline, progress and logs
EDGES = {
    "orgreader": {"errors", "snapshot"},
    "ratelimit": set(),
    "inflight": set(),
    "close_client": {
        "__init__",
        "attempts",
        "credentials",
        "errors",
        "inflight",
        "models",
        "ratelimit",
        "redact",
        "retry",
    },
    "attempts": {"errors", "retry"},
    "executor": {"attempts", "errors", "models", "plan", "prepare", "retry", "snapshot"},
    "fieldexec": {
        "attempts",
        "errors",
        "executor",
        "fieldplan",
        "models",
        "plan",
        "retry",
        "snapshot",
        "orgreader",
    },
    "fieldphase": {
        "errors",
        "fieldexec",
        "fieldplan",
        "models",
        "results",
        "retry",
        "runfolder",
        "snapshot",
    },
    "runner": {"errors", "exitcodes", "models", "prepare", "progress", "results", "retry"},
    "progress": set(),
    "logs": {"redact"},
}
# the one place a run is assembled, and the commands
ASSEMBLY = {
    "runjob": {
        "close_client", "credentials", "errors", "executor", "exitcodes", "fieldphase",
        "inflight", "opsfile", "options",
        "orgreader", "prepare", "progress", "reopen", "results", "retry", "runfolder", "runner",
        "snapshot", "summary",
    },
    "validation": {
        "close_client", "credentials", "jobspec", "options", "orgreader", "prepare", "snapshot",
    },
    "demo": {
        "credentials", "errors", "jobspec", "options", "progress", "runjob", "sim", "summary",
    },
}  # fmt: skip
COMMANDS = {
    "exportcmd": {
        "__init__", "close_client", "credentials", "errors", "exitcodes", "export", "logs",
        "options", "snapshot", "orgreader"},
    "cli": {
        "__init__", "credentials", "demo", "errors", "exitcodes", "exportcmd", "htmlreport",
        "jobspec", "logs",
        "models", "opsfile", "options", "passfiles", "passreport", "planview", "prepare",
        "progress", "resultscsv", "retryfile", "runjob", "sim", "snapshot", "summary",
        "validation",
    },
    "__main__": {"cli"},
    "__init__": set(),
}  # fmt: skip
ALLOWED = {**DOMAIN, **RULES, **AFTER_RUN, **EDGES, **ASSEMBLY, **COMMANDS}
PURE = {*DOMAIN, *RULES, *AFTER_RUN}
IO_LIBRARIES = {"aiohttp", "anyio", "structlog", "aiolimiter", "rich"}


def imports(path: Path) -> set[str]:
    """Every module the file imports, as written (`scf_batch.x.y` or `aiohttp`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "scf_batch":  # `from scf_batch import __version__, logs`
                found.update(f"scf_batch.{alias.name}" for alias in node.names)
    return found


def project_imports(path: Path) -> set[str]:
    """The package's own modules the file imports, by name (`sim` for anything of the sim)."""
    names = set()
    for module in imports(path):
        parts = module.split(".")
        if parts[0] == "scf_batch" and len(parts) > 1:
            name = parts[1] if parts[1] != "__version__" else "__init__"
            names.add(name)
    return names


def test_every_module_is_placed_and_every_placed_module_exists() -> None:
    """A new or renamed module must be added to the table; a listed one must exist."""
    present = {path.stem for path in PACKAGE.glob("*.py")}
    assert (present - set(ALLOWED), set(ALLOWED) - present) == (set(), set())


def test_each_module_imports_only_what_its_layer_allows() -> None:
    """No module imports a project module its line does not list (no upward import)."""
    offenders = {
        f"{path.stem} imports {name}"
        for path in PACKAGE.glob("*.py")
        for name in project_imports(path) - ALLOWED.get(path.stem, set())
    }
    assert offenders == set()


def test_pure_modules_do_no_io() -> None:
    """The pure core imports no HTTP, async, logging or terminal library."""
    offenders = {
        f"{name}: {module}"
        for name in PURE
        for module in imports(PACKAGE / f"{name}.py")
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


def test_the_simulator_imports_nothing_from_the_client_side() -> None:
    """Every module of scf_batch/sim imports only from scf_batch.sim (an independent reading)."""
    offenders = {
        f"{path.name}: {name}"
        for path in (PACKAGE / "sim").rglob("*.py")
        for name in imports(path)
        if name.startswith("scf_batch") and not name.startswith("scf_batch.sim")
    }
    assert offenders == set()


def test_nothing_outside_the_commands_imports_the_simulator() -> None:
    """Only the command line and the demo start a simulator."""
    users = {path.stem for path in PACKAGE.glob("*.py") if "sim" in project_imports(path)}
    assert users == {"cli", "demo"}
