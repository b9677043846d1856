"""`<out>/fleet-summary.json`: the fleet's verdict and each org's, one writer and one reader.

The orgs' own run folders sit beside it (`<out>/<org name>/`); this file only says how each
org's last run ended, so `fleet report` and a monitor read one file. A shard writes its own,
`fleet-summary.shard-I-of-N.json`, so shards sharing a volume never overwrite each other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scf_batch.errors import UsageError
from scf_batch.runfolder.durable import write_json_atomically

FLEET_SUMMARY_FILE = "fleet-summary.json"
FLEET_SUMMARY_VERSION = 1
MAX_FLEET_SUMMARY_BYTES = 16 << 20


@dataclass(frozen=True, slots=True)
class FleetSummary:
    """The fleet's exit code, when it ended, and one entry per org it ran (in manifest order)."""

    manifest: str
    exit_code: int
    meaning: str
    finished_at: str
    orgs: tuple[dict[str, Any], ...]

    def document(self) -> dict[str, Any]:
        return {
            "version": FLEET_SUMMARY_VERSION,
            "manifest": self.manifest,
            "exit_code": self.exit_code,
            "meaning": self.meaning,
            "finished_at": self.finished_at,
            "orgs": list(self.orgs),
        }


def summary_name(shard: tuple[int, int] | None) -> str:
    """The summary's file name: the fleet's, or shard I of N's."""
    if shard is None:
        return FLEET_SUMMARY_FILE
    index, count = shard
    return f"fleet-summary.shard-{index}-of-{count}.json"


def write_fleet_summary(
    out: Path, summary: FleetSummary, shard: tuple[int, int] | None = None
) -> Path:
    """Replace the fleet's (or the shard's) summary in `out` atomically; its path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / summary_name(shard)
    write_json_atomically(path, summary.document())
    return path


def read_fleet_summaries(out: Path) -> list[FleetSummary]:
    """Every summary in `out`, the fleet's and its shards', oldest first; UsageError when
    there is none, or one is damaged."""
    paths = sorted(out.glob("fleet-summary*.json")) if out.is_dir() else []
    if not paths:
        raise UsageError(
            f"{out / FLEET_SUMMARY_FILE}: not found; expected the summary `scf-batch fleet run` "
            "writes in the manifest's out folder (run the fleet first)"
        )
    summaries = [read_fleet_summary(path) for path in paths]
    return sorted(summaries, key=lambda summary: summary.finished_at)


def read_fleet_summary(path: Path) -> FleetSummary:
    """One summary file; UsageError naming the file when it is missing or damaged."""
    try:
        with path.open("rb") as handle:
            document = json.loads(handle.read(MAX_FLEET_SUMMARY_BYTES + 1))
    except FileNotFoundError:
        raise UsageError(
            f"{path}: not found; expected the summary `scf-batch fleet run` writes in the "
            "manifest's out folder (run the fleet first)"
        ) from None
    except (OSError, ValueError, RecursionError) as exc:
        raise UsageError(f"{path}: unreadable ({exc}); expected a fleet summary") from exc
    problem = _problem(document)
    if problem is not None:
        raise UsageError(f"{path}: found {problem}; expected a fleet summary of this version")
    return FleetSummary(
        manifest=document["manifest"],
        exit_code=document["exit_code"],
        meaning=document["meaning"],
        finished_at=document["finished_at"],
        orgs=tuple(document["orgs"]),
    )


ORG_KEYS = {"name": str, "exit_code": int, "reason": str}


def _problem(document: object) -> str | None:
    """What is wrong with a fleet summary's shape, or None."""
    if not isinstance(document, dict):
        return "no JSON object"
    orgs = document.get("orgs")
    checks = (
        (document.get("version") == FLEET_SUMMARY_VERSION, f"version {document.get('version')!r}"),
        (isinstance(document.get("manifest"), str), "no manifest"),
        (isinstance(document.get("exit_code"), int), "no exit code"),
        (isinstance(document.get("meaning"), str), "no meaning"),
        (isinstance(document.get("finished_at"), str), "no finished_at"),
        (isinstance(orgs, list), "no list of orgs"),
    )
    problem = next((problem for fine, problem in checks if not fine), None)
    if problem is not None or not isinstance(orgs, list):
        return problem
    for number, org in enumerate(orgs, 1):
        if not isinstance(org, dict) or any(
            not isinstance(org.get(k), kind) for k, kind in ORG_KEYS.items()
        ):
            return f"org entry {number} without its name, exit code or reason"
    return None
