"""Helpers for end-to-end tests: write jobs for the simulator's target org, run the CLI as a
real subprocess, read results."""

from __future__ import annotations

import base64
import csv
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TARGET_KEY = "api_target_key_1"
TARGET_ORG = "Acme Target"

COLUMNS = [
    "key",
    "action",
    "scf_name",
    "object_type",
    "custom_activity_type_name",
    "custom_object_type_name",
    "required",
    "editable_with_roles",
]


@dataclass(frozen=True)
class Pair:
    """A (field name, target) of the target org, in the operations file's terms."""

    field: str
    object_type: str
    type_name: str = ""

    def row(self, key: str, action: str, required: str = "", roles: str = "") -> dict[str, str]:
        return {
            "key": key,
            "action": action,
            "scf_name": self.field,
            "object_type": self.object_type,
            "custom_activity_type_name": self.type_name
            if self.object_type == "custom_activity_type"
            else "",
            "custom_object_type_name": self.type_name
            if self.object_type == "custom_object_type"
            else "",
            "required": required,
            "editable_with_roles": roles,
        }


def target_org(state: dict[str, Any]) -> dict[str, Any]:
    return next(org for org in state["orgs"] if org["name"] == TARGET_ORG)


def all_pairs(state: dict[str, Any]) -> list[Pair]:
    """Every (field, target) of the target org, in a stable order."""
    org = target_org(state)
    targets = [("lead", ""), ("contact", ""), ("opportunity", "")]
    targets += [("custom_activity_type", t["name"]) for t in org["custom_activity_types"]]
    targets += [("custom_object_type", t["name"]) for t in org["custom_object_types"]]
    return [Pair(f["name"], ot, tn) for f in org["shared_custom_fields"] for ot, tn in targets]


def associations(state: dict[str, Any]) -> dict[Pair, dict[str, Any]]:
    """The target org's associations keyed by Pair (type ids mapped back to names)."""
    org = target_org(state)
    names = {t["id"]: t["name"] for t in org["custom_activity_types"] + org["custom_object_types"]}
    found: dict[Pair, dict[str, Any]] = {}
    for scf in org["shared_custom_fields"]:
        for assoc in scf["associations"]:
            type_id = assoc.get("custom_activity_type_id") or assoc.get("custom_object_type_id")
            pair = Pair(scf["name"], assoc["object_type"], names.get(type_id, ""))
            assert pair not in found, f"duplicate association {pair}"
            found[pair] = assoc
    return found


def write_csv(path: Path, rows: Sequence[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def cli_env(api_key: str = TARGET_KEY) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CLOSE_API_KEY", "CLOSE_OAUTH_TOKEN")}
    env["CLOSE_API_KEY"] = api_key
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_args(job: Path, base_url: str, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "scf_batch",
        "run",
        str(job),
        "--base-url",
        base_url,
        "--out",
        str(out),
        "--log-format",
        "json",
        "--no-progress",
        *extra,
    ]


def run_cli(
    job: Path, base_url: str, out: Path, *extra: str, api_key: str = TARGET_KEY, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        run_args(job, base_url, out, *extra),
        env=cli_env(api_key),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def results(out: Path) -> list[dict[str, Any]]:
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def by_key(out: Path) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in results(out)}


def outcomes(out: Path) -> dict[str, tuple[str, str]]:
    return {k: (r["status"], r["outcome"]) for k, r in by_key(out).items()}


def files_under(folder: Path) -> Iterator[Path]:
    return (p for p in folder.rglob("*") if p.is_file())


def call_api(
    base_url: str, method: str, path: str, body: Any = None, api_key: str = TARGET_KEY
) -> tuple[int, Any]:
    """One request to the simulator's API as the key's org (to drift it behind a run's back)."""
    token = base64.b64encode(f"{api_key}:".encode()).decode()
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base_url + path, data=data, method=method)
    request.add_header("Authorization", f"Basic {token}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def writes_sent(stats: dict[str, Any]) -> dict[str, int]:
    """The simulator's request counts of every group that is not a read."""
    return {
        group: sum(by_status.values())
        for group, by_status in stats["by_group"].items()
        if not group.startswith("GET")
    }


def field_id(state: dict[str, Any], name: str) -> str:
    """The id of the target org's field of that name."""
    fields = target_org(state)["shared_custom_fields"]
    found: str = next(f["id"] for f in fields if f["name"] == name)
    return found
