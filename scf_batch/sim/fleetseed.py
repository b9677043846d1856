"""A fleet of client orgs for the `fleet` commands' tests, demos and benchmarks.

Every org starts from the same generated configuration (bigseed's sizes; its own ids and keys,
the same names), and the fleet's job is that configuration as `ensure` rows by name. Then each
org drifts from the job in a known way that depends only on its position: it lacks some of the
job's associations (a run creates them) and has others with `required` flipped (a run updates
them). `expected_drift` says what a plan of each org must show.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scf_batch.sim.bigseed import OPS_COLUMNS, BigOrgSpec, build_big_org, ensure_rows

# (associations lacking, associations changed) by position modulo its length
DRIFT_PATTERN = ((0, 0), (1, 0), (0, 1), (2, 1), (0, 0), (3, 0))


@dataclass(frozen=True, slots=True)
class Drift:
    """How an org differs from the fleet's job: `lacking` associations to create, `changed`
    associations (with `required` flipped) to update."""

    lacking: int
    changed: int


@dataclass(frozen=True, slots=True)
class FleetSpec:
    """The sizes of a generated fleet: `orgs` orgs, each `fields` fields over 3 built-in object
    types + `activity_types` + `object_types` custom types, every pair associated."""

    orgs: int = 20
    fields: int = 8
    activity_types: int = 1
    object_types: int = 1
    random_seed: int = 0
    onboarding: bool = False  # every org lacks every association (a fresh client org)

    def __post_init__(self) -> None:
        if not 1 <= self.orgs <= 10_000:
            raise ValueError(f"orgs must be between 1 and 10000, got {self.orgs}")
        most = max(lacking + changed for lacking, changed in DRIFT_PATTERN)
        if self.fields < most:
            raise ValueError(f"fields must be >= {most} (the largest drift), got {self.fields}")

    def org_spec(self, position: int) -> BigOrgSpec:
        """The generated org at `position` (0-based) before its drift."""
        return BigOrgSpec(
            fields=self.fields,
            activity_types=self.activity_types,
            object_types=self.object_types,
            keys=1,
            random_seed=self.random_seed,
            name=org_name(position),
            slug=org_slug(position),
        )


def org_slug(position: int) -> str:
    """`client007`: the org's slug, in its ids and its key `api_client007_key_1`."""
    return f"client{position:03d}"


def org_name(position: int) -> str:
    return f"Client {position:03d}"


def key_variable(position: int) -> str:
    """The environment variable a fleet manifest names for the org's key."""
    return f"CLOSE_KEY_{org_slug(position).upper()}"


def drift_at(position: int) -> Drift:
    lacking, changed = DRIFT_PATTERN[position % len(DRIFT_PATTERN)]
    return Drift(lacking, changed)


def expected_drift(spec: FleetSpec) -> dict[str, Drift]:
    """Each org's drift by its manifest name (the slug)."""
    if spec.onboarding:
        pairs = len(fleet_job_rows(spec))
        return {org_slug(p): Drift(pairs, 0) for p in range(spec.orgs)}
    return {org_slug(p): drift_at(p) for p in range(spec.orgs)}


def build_fleet_seed(spec: FleetSpec) -> dict[str, Any]:
    """The seed: every org of the fleet, each drifted as `drift_at` says (or, onboarding,
    without any association)."""
    orgs = []
    for position in range(spec.orgs):
        org = build_big_org(spec.org_spec(position))
        if spec.onboarding:
            for scf in org["shared_custom_fields"]:
                scf["associations"] = []
        else:
            _drifted(org, drift_at(position))
        orgs.append(org)
    return {"orgs": orgs}


def fleet_job_rows(spec: FleetSpec) -> list[dict[str, str]]:
    """The fleet's job: the undrifted configuration as `ensure` rows by name."""
    return list(ensure_rows(build_big_org(spec.org_spec(0))))


def _drifted(org: dict[str, Any], drift: Drift) -> dict[str, Any]:
    """The org without the first association of its first `lacking` fields, and with
    `required` flipped on the first association of its last `changed` fields."""
    fields = org["shared_custom_fields"]
    for scf in fields[: drift.lacking]:
        scf["associations"] = scf["associations"][1:]
    for scf in fields[len(fields) - drift.changed :]:
        first = scf["associations"][0]
        first["required"] = not first["required"]
    return org


def write_fleet(spec: FleetSpec, folder: Path, *, base_url: str, parallel: int = 8) -> Path:
    """Write `seed.json`, the job `job.csv`, the manifest `fleet.toml` (orgs by slug, each its
    key variable and org pin) and `keys.env` (the simulator's keys to export); the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    seed = build_fleet_seed(spec)
    (folder / "seed.json").write_text(json.dumps(seed, indent=2) + "\n", encoding="utf-8")
    with (folder / "job.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=OPS_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(fleet_job_rows(spec))
    lines = ['job = "job.csv"', 'out = "runs"', f"parallel = {parallel}", "", "[defaults]"]
    lines += [f'base_url = "{base_url}"', ""]
    keys = []
    for position, org in enumerate(seed["orgs"]):
        lines += ["[[org]]", f'name = "{org_slug(position)}"']
        lines += [f'api_key_env = "{key_variable(position)}"', f'organization_id = "{org["id"]}"']
        lines.append("")
        keys.append(f"export {key_variable(position)}={org['api_keys'][0]}")
    manifest = folder / "fleet.toml"
    manifest.write_text("\n".join(lines), encoding="utf-8")
    (folder / "keys.env").write_text("\n".join(keys) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    """`python -m scf_batch.sim.fleetseed DIR --orgs N`: write a fleet to DIR."""
    parser = argparse.ArgumentParser(
        prog="python -m scf_batch.sim.fleetseed",
        description="Write a generated fleet: seed.json, job.csv, fleet.toml and keys.env.",
    )
    parser.add_argument("folder", type=Path, help="where to write the fleet's files")
    parser.add_argument("--orgs", type=int, default=20, help="orgs in the fleet (default 20)")
    parser.add_argument("--fields", type=int, default=8, help="fields per org (default 8)")
    parser.add_argument("--parallel", type=int, default=8, help="orgs at once (default 8)")
    parser.add_argument(
        "--onboarding", action="store_true", help="every org starts without associations"
    )
    parser.add_argument(
        "--base-url",
        default="http://127.0.0.1:8787/api/v1/",
        help="the simulator's API URL the manifest names (default the `scf-batch sim` default)",
    )
    args = parser.parse_args(argv)
    try:
        spec = FleetSpec(orgs=args.orgs, fields=args.fields, onboarding=args.onboarding)
    except ValueError as exc:
        sys.stderr.write(f"fleetseed: {exc}\n")
        return 2
    manifest = write_fleet(spec, args.folder, base_url=args.base_url, parallel=args.parallel)
    sys.stderr.write(
        f"fleetseed: {spec.orgs} orgs; serve them with `scf-batch sim --seed "
        f"{args.folder / 'seed.json'}`, `source {args.folder / 'keys.env'}`, then "
        f"`scf-batch fleet plan {manifest}`\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
