"""The benchmark's workload: a simulator seed with enough fields, and jobs of association creates.

The default seed's target org gets `fields` more unassociated text fields and four API keys
(`api_target_key_1` .. `_4`, so four runs can share one org). Row `i` of the workload associates
field `i // 10` with target `i % 10` (lead, contact, opportunity, four custom activity types,
three custom object types): every row is a distinct create that the simulator answers with 201.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scf_batch.sim.ids import stable_id
from scf_batch.sim.seedgen import build_seed

KEYS = tuple(f"api_target_key_{n}" for n in range(1, 5))
POST_GROUP = "POST custom_field/shared/{scf_id}/association/"
HEADER = ("scf_id", "object_type", "custom_activity_type_id", "custom_object_type_id")
Row = tuple[str, str, str, str]


def _target_org(seed: dict[str, Any]) -> dict[str, Any]:
    return next(org for org in seed["orgs"] if org["name"] == "Acme Target")


def _targets(org: dict[str, Any]) -> list[tuple[str, str, str]]:
    targets = [("lead", "", ""), ("contact", "", ""), ("opportunity", "", "")]
    targets += [("custom_activity_type", t["id"], "") for t in org["custom_activity_types"]]
    targets += [("custom_object_type", "", t["id"]) for t in org["custom_object_types"]]
    return targets


def field_id(index: int) -> str:
    """The id of the workload's field number `index` (stable across runs)."""
    return stable_id("cf_", "bench", str(index))


def write_seed(path: Path, rows: int) -> None:
    """A seed whose target org has four keys and the fields that `rows` rows need."""
    seed = build_seed()
    org = _target_org(seed)
    org["api_keys"] = list(KEYS)
    template = org["shared_custom_fields"][0]
    for index in range(math.ceil(rows / len(_targets(org)))):
        extra = {"id": field_id(index), "name": f"Bench {index}", "type": "text", "choices": None}
        org["shared_custom_fields"].append({**template, **extra, "associations": []})
    path.write_text(json.dumps(seed))


def workload_rows(start: int, stop: int) -> Iterator[Row]:
    """Rows `start` .. `stop - 1` of the workload (see the module docstring)."""
    targets = _targets(_target_org(build_seed()))
    for index in range(start, stop):
        object_type, activity_type, object_type_id = targets[index % len(targets)]
        yield field_id(index // len(targets)), object_type, activity_type, object_type_id


def write_job(path: Path, start: int, stop: int) -> Path:
    """An operations CSV (associate by ids) of rows `start` .. `stop - 1`."""
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADER)
        writer.writerows(workload_rows(start, stop))
    return path


def read_job(path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """The (path, JSON body) of each row's POST, as a hand-written script would build them."""
    with path.open(newline="") as stream:
        for record in csv.DictReader(stream):
            body = {"object_type": record["object_type"]}
            for key in ("custom_activity_type_id", "custom_object_type_id"):
                if record[key]:
                    body[key] = record[key]
            yield f"custom_field/shared/{record['scf_id']}/association/", body
