"""The structure of the package, held by tests: a rank per package, imports pointing down only.

Each top-level module and each subpackage of `scf_batch` is a unit with a rank. A module may
import modules of its own unit and of units ranked lower, never higher or level; relative imports
count as what they resolve to, and subpackages are walked whole. The module graph has no cycle.
A new or renamed unit is a change to RANKS, made on purpose and seen in review.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests import importgraph as graph
from tests.importgraph import imports, project_imports, unit_of

PACKAGE = Path(__file__).resolve().parent.parent / "scf_batch"

# lower imports nothing above it; units of the same rank do not import each other
RANKS = {
    "__init__": 0,
    "models": 0,
    "text": 0,
    "exitcodes": 0,
    "redact": 0,
    "errors": 1,
    "options": 2,
    "logs": 2,
    "job": 3,
    "plan": 4,
    "close": 4,
    "runfolder": 4,
    "report": 5,
    "run": 6,
    "fleet": 7,
    "cli": 8,
    "__main__": 9,
    # the simulator: its own reading of Close's API, imported only by what starts one
    "sim": 10,
}
# (the `sim` command is named in cli.main.COMMANDS and imported only when it runs)
SIMULATOR_USERS = {"scf_batch.run.demo"}
# the pure core: values, rules and plans; no HTTP, async, logging or terminal library
PURE_UNITS = {"models", "text", "exitcodes", "errors", "options", "job", "plan"}
# of the pure core, only the job's openers open a file: the operations file's, the spec, and the
# saved plan (a job-like input file `run PLAN.json` reads, written by `plan -o`)
FILE_READERS = {"scf_batch.job.files", "scf_batch.job.spec", "scf_batch.job.planfile"}
IO_LIBRARIES = {"aiohttp", "anyio", "structlog", "aiolimiter", "rich", "plotly"}
FILE_CALLS = {"open", "read_text", "write_text", "read_bytes", "write_bytes", "GzipFile"}


def modules() -> Iterator[tuple[str, Path]]:
    return graph.modules(PACKAGE)


def project_modules() -> dict[str, Path]:
    return dict(modules())


def test_every_unit_has_a_rank_and_every_rank_a_unit() -> None:
    """A new or renamed module or subpackage at the top must be ranked; a ranked one must exist."""
    present = {unit_of(name) for name, _ in modules()}
    assert (present - set(RANKS), set(RANKS) - present) == (set(), set())


def upward_imports(known: dict[str, Path]) -> set[str]:
    """`a imports b` for every import of a unit ranked at or above the importer's own."""
    offenders = set()
    for name, path in known.items():
        unit = unit_of(name)
        for module in project_imports(name, path, known):
            other = unit_of(module)
            if other == unit or (other == "sim" and name in SIMULATOR_USERS):
                continue
            if RANKS[other] >= RANKS[unit]:
                offenders.add(f"{name} imports {module}")
    return offenders


def test_imports_point_down_only() -> None:
    """No module imports a unit of its own rank or above (relative and nested imports too)."""
    assert upward_imports(project_modules()) == set()


def cycles(known: dict[str, Path]) -> list[list[str]]:
    """Import cycles among the package's modules (each found once, from its first module)."""
    graph = {name: sorted(project_imports(name, path, known)) for name, path in known.items()}
    graph = {name: [m for m in edges if not _is_parent(m, name)] for name, edges in graph.items()}
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the path, 2 finished

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [node])
    return found


def _is_parent(module: str, of: str) -> bool:
    """A package's `__init__` runs before its modules: importing it is not an edge back."""
    return of.startswith(module + ".")


def test_no_import_cycles() -> None:
    """The module graph is acyclic, within packages too."""
    assert cycles(project_modules()) == []


def test_the_pure_core_uses_no_io_library() -> None:
    """Values, rules and plans import no HTTP, async, logging or terminal library."""
    offenders = {
        f"{name}: {module}"
        for name, path in modules()
        if unit_of(name) in PURE_UNITS
        for module in imports(name, path)
        if module.split(".")[0] in IO_LIBRARIES
    }
    assert offenders == set()


def file_calls(path: Path) -> set[str]:
    """The file-opening calls a module makes (`open(...)`, `path.read_text()`, ...)."""
    calls = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in FILE_CALLS:
                calls.add(called)
    return calls


def test_the_pure_core_opens_no_file_but_the_jobs_own_readers() -> None:
    """Only job.files, job.spec and job.planfile open a file in the pure core: the inputs they
    read (and the saved plan they write)."""
    openers = {name for name, path in modules() if unit_of(name) in PURE_UNITS and file_calls(path)}
    assert openers == FILE_READERS


# Close's client, and the heartbeat to a monitor's URL (it sends no credential and raises none)
HTTP_SPEAKERS = {"scf_batch.close.client", "scf_batch.close.heartbeat"}


def test_only_the_client_speaks_http() -> None:
    """Outside the simulator, close.client and close.heartbeat are the only modules that
    import aiohttp."""
    users = {
        name
        for name, path in modules()
        if unit_of(name) != "sim" and any(m.split(".")[0] == "aiohttp" for m in imports(name, path))
    }
    assert users == HTTP_SPEAKERS


def test_the_simulator_imports_nothing_from_the_client_side() -> None:
    """Every module of scf_batch/sim imports only from scf_batch.sim (an independent reading)."""
    offenders = {
        f"{name}: {module}"
        for name, path in modules()
        if unit_of(name) == "sim"
        for module in imports(name, path)
        if module.startswith("scf_batch") and not module.startswith("scf_batch.sim")
    }
    assert offenders == set()


def test_only_the_demo_and_the_sim_command_start_a_simulator() -> None:
    """Nothing but the command line and the demo imports the simulator."""
    known = project_modules()
    users = {
        name
        for name, path in known.items()
        if unit_of(name) != "sim"
        and any(unit_of(m) == "sim" for m in project_imports(name, path, known))
    }
    assert users == SIMULATOR_USERS


# -- the rules catch what they are meant to (the checks run on small trees written here) ---------


def tree(tmp_path: Path, files: dict[str, str]) -> dict[str, Path]:
    """A throwaway scf_batch package of the given files, as project_modules() would list it."""
    known = {}
    for relative, text in files.items():
        path = tmp_path / "scf_batch" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        parts = path.relative_to(tmp_path).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        known[".".join(parts)] = path
    return known


def test_a_relative_upward_import_is_caught(tmp_path: Path) -> None:
    """`from ..run import job` inside plan/ is an upward import, though written relative."""
    known = tree(
        tmp_path,
        {
            "plan/__init__.py": "",
            "plan/steps.py": "from ..run import job\n",
            "run/__init__.py": "",
            "run/job.py": "",
        },
    )
    assert upward_imports(known) == {"scf_batch.plan.steps imports scf_batch.run.job"}


def test_an_upward_import_inside_a_nested_subpackage_is_caught(tmp_path: Path) -> None:
    """A module two folders deep is held to its unit's rank too."""
    known = tree(
        tmp_path,
        {
            "job/__init__.py": "",
            "job/deep/__init__.py": "",
            "job/deep/rows.py": "from scf_batch.report import summary\n",
            "report/__init__.py": "",
            "report/summary.py": "",
        },
    )
    assert upward_imports(known) == {"scf_batch.job.deep.rows imports scf_batch.report.summary"}


def test_a_cycle_within_a_package_is_caught(tmp_path: Path) -> None:
    """Two modules of one package that import each other are a cycle, though no rank is broken."""
    known = tree(
        tmp_path,
        {
            "run/__init__.py": "",
            "run/a.py": "from scf_batch.run import b\n",
            "run/b.py": "from . import a\n",
        },
    )
    assert cycles(known) == [["scf_batch.run.a", "scf_batch.run.b", "scf_batch.run.a"]]
