"""The package's shape in figures, for one or more package folders side by side.

    python bench/structure.py scf_batch                 # this checkout
    git worktree add /tmp/before <rev> && python bench/structure.py /tmp/before/scf_batch scf_batch

Prints the longest chain of project imports, the modules at the package's top level, the modules
with the most project imports, the modules that open files, and the `fmt: skip` / `type: ignore`
markers, one column per folder.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.importgraph import longest_chain, modules, project_imports

FILE_CALLS = {"open", "read_text", "write_text", "read_bytes", "write_bytes", "GzipFile"}


def opens_files(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in FILE_CALLS:
                return True
    return False


def short(module: str) -> str:
    return module.split(".", 1)[-1]


def figures(package: Path) -> dict[str, str]:
    known = dict(modules(package))
    client = {n: p for n, p in known.items() if ".sim" not in n}
    chain = longest_chain(client)
    fan_out = sorted(
        ((len(project_imports(n, p, client)), n) for n, p in client.items()), reverse=True
    )
    texts = [p.read_text(encoding="utf-8") for p in known.values()]
    return {
        "longest import chain (modules)": f"{len(chain)}: {' > '.join(map(short, chain))}",
        "modules at the top level": str(len(list(package.glob("*.py")))),
        "most project imports": ", ".join(f"{short(n)} {c}" for c, n in fan_out[:3]),
        "modules that open files (no sim)": str(sum(opens_files(p) for p in client.values())),
        "fmt: skip": str(sum(t.count("fmt: skip") for t in texts)),
        "type: ignore": str(sum(t.count("type: ignore") for t in texts)),
    }


def main() -> None:
    folders = [Path(arg) for arg in sys.argv[1:]] or [Path("scf_batch")]
    columns = [figures(folder) for folder in folders]
    for key in columns[0]:
        print(key)
        for folder, column in zip(folders, columns, strict=True):
            print(f"  {folder}: {column[key]}")


if __name__ == "__main__":
    main()
