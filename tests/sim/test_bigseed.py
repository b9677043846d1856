"""Generated benchmark orgs (`seedgen --fields ...`) and their no-drift `ensure` job."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from scf_batch.sim.bigseed import (
    OPS_COLUMNS,
    BigOrgSpec,
    build_big_org,
    build_big_seed,
    ensure_rows,
    write_ensure_csv,
)
from scf_batch.sim.seedgen import build_seed, main, render_seed
from scf_batch.sim.store import BUILTIN_ROLES, SharedField, load_orgs
from tests.sim.conftest import MakeSim

KEY = "api_bench_key_3"
MULTI_TYPES = ("user", "choices", "contact", "custom_object")
SMALL = BigOrgSpec(fields=12, activity_types=2, object_types=3, keys=4)


def pairs_of(org: dict[str, Any]) -> set[tuple[str, str, str, str, tuple[str, ...]]]:
    """(field, object type, type name, required, role names) of every association, by name."""
    names = {t["id"]: t["name"] for t in org["custom_activity_types"] + org["custom_object_types"]}
    names |= {r["id"]: r["name"] for r in org["roles"]}
    found = set()
    for scf in org["shared_custom_fields"]:
        for a in scf["associations"]:
            type_id = a.get("custom_activity_type_id") or a.get("custom_object_type_id")
            roles = tuple(names.get(r, r) for r in a["editable_with_roles"])
            found.add(
                (scf["name"], a["object_type"], names.get(type_id, ""), str(a["required"]), roles)
            )
    return found


def test_every_field_is_associated_with_every_target_when_associated_is_1() -> None:
    """F fields x (3 + A + O) targets: with `associated` 1.0 each field has every target once."""
    org = build_big_org(SMALL)
    assert len(org["shared_custom_fields"]) == 12
    assert (len(org["custom_activity_types"]), len(org["custom_object_types"])) == (2, 3)
    counts = {len(f["associations"]) for f in org["shared_custom_fields"]}
    assert counts == {SMALL.targets} == {8}
    assert len(pairs_of(org)) == 12 * 8


@pytest.mark.parametrize("share", [0.0, 0.25, 0.5])
def test_a_share_of_the_pairs_is_associated(share: float) -> None:
    """`associated` picks round(share x F x T) of the pairs."""
    spec = BigOrgSpec(fields=40, activity_types=2, object_types=2, associated=share)
    org = build_big_org(spec)
    total = sum(len(f["associations"]) for f in org["shared_custom_fields"])
    assert total == round(share * 40 * 7)


def test_generation_is_deterministic_and_varies_with_the_random_seed() -> None:
    """Same spec, same seed; another random_seed changes the settings but not the names or
    the ids."""
    again = build_big_seed(SMALL)
    other = build_big_seed(BigOrgSpec(fields=12, activity_types=2, object_types=3, random_seed=1))
    assert build_big_seed(SMALL) == again
    assert other != again
    ids = [[f["id"] for f in s["orgs"][0]["shared_custom_fields"]] for s in (other, again)]
    assert ids[0] == ids[1]


def test_the_org_has_closes_id_forms_and_k_keys() -> None:
    """Ids in Close's forms, none repeated; K API keys."""
    org = build_big_org(SMALL)
    ids = [org["id"], *(i["id"] for k in ("roles", "custom_activity_types",
           "custom_object_types", "shared_custom_fields", "users") for i in org[k])]  # fmt: skip
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+_[0-9A-Za-z]{22}([0-9A-Za-z]{21})?", i) for i in ids)
    assert org["api_keys"] == [f"api_bench_key_{i}" for i in range(1, 5)]


def test_the_org_is_one_the_simulator_would_have_accepted() -> None:
    """Every type appears; custom_object fields reference the org's custom object types;
    multiple values only on multi-value types; roles are admin or the org's role ids; it
    loads as a simulator org."""
    org = build_big_org(BigOrgSpec(fields=30, activity_types=1, object_types=2))
    fields = org["shared_custom_fields"]
    cotypes = {t["id"] for t in org["custom_object_types"]}
    roles = {r["id"] for r in org["roles"]} | set(BUILTIN_ROLES)
    assert len({f["type"] for f in fields}) == 9
    assert {f["referenced_custom_type_id"] for f in fields if f["type"] == "custom_object"} <= (
        cotypes
    )
    assert not [f for f in fields if f["accepts_multiple_values"] and f["type"] not in MULTI_TYPES]
    assert all(f["choices"] for f in fields if f["type"] == "choices")
    assert {r for f in fields for a in f["associations"] for r in a["editable_with_roles"]} <= roles
    (loaded,) = load_orgs({"orgs": [org]})
    assert len(loaded.fields) == 30


def test_without_custom_object_types_no_field_is_custom_object() -> None:
    """A custom_object field needs a type to point to, so an org without any has none."""
    org = build_big_org(BigOrgSpec(fields=20, object_types=0))
    assert "custom_object" not in {f["type"] for f in org["shared_custom_fields"]}


@pytest.mark.parametrize(
    "sizes",
    [{"fields": -1}, {"keys": 0}, {"associated": 1.5}, {"associated": -0.1}, {"roles": -2}],
)
def test_out_of_range_sizes_are_refused(sizes: dict[str, Any]) -> None:
    """Negative counts, no key, or a share outside 0..1 raise ValueError."""
    with pytest.raises(ValueError, match=next(iter(sizes))):
        BigOrgSpec(**sizes)


def test_the_ensure_rows_restate_every_association_by_name() -> None:
    """One ensure row per association, in the operations file's columns; read back by name
    they are exactly the org's associations (settings included); no roles is `[]`."""
    org = build_big_org(SMALL)
    rows = list(ensure_rows(org))
    assert len(rows) == len({r["key"] for r in rows}) == 96
    assert all(list(r) == list(OPS_COLUMNS) and r["action"] == "ensure" for r in rows)
    restated = set()
    for r in rows:
        roles = (
            () if r["editable_with_roles"] == "[]" else tuple(r["editable_with_roles"].split(";"))
        )
        type_name = r["custom_activity_type_name"] or r["custom_object_type_name"]
        required = {"true": "True", "false": "False"}[r["required"]]
        restated.add((r["scf_name"], r["object_type"], type_name, required, roles))
    assert restated == pairs_of(org)
    assert any(r["editable_with_roles"] == "[]" for r in rows)


def test_the_ensure_csv_of_the_default_source_org_names_its_types_and_roles() -> None:
    """The same rows come from the default seed: the source org's associations, by name."""
    source = build_seed()["orgs"][0]
    handle = io.StringIO()
    count = write_ensure_csv(source, handle)
    rows = list(csv.DictReader(io.StringIO(handle.getvalue())))
    assert count == len(rows) == sum(len(f["associations"]) for f in source["shared_custom_fields"])
    assert {
        "key": rows[0]["key"],
        "scf_name": "Account Owner",
        "object_type": "lead",
        "required": "false",
        "editable_with_roles": "[]",
    }.items() <= rows[0].items()
    churn = [r for r in rows if r["scf_name"] == "Churn Risk"]
    assert [(r["custom_object_type_name"], r["editable_with_roles"]) for r in churn] == [
        ("", "admin;Support"),
        ("Subscription", "[]"),
    ]


def test_the_cli_without_sizes_prints_the_default_seed(capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m scf_batch.sim.seedgen` still prints the committed seed."""
    assert main([]) == 0
    assert capsys.readouterr().out == render_seed()


def test_the_cli_writes_a_generated_seed_and_its_ensure_job(tmp_path: Path) -> None:
    """Size options generate an org; -o and --ops write the seed and its ensure CSV; the
    defaults of the sizes not given are BigOrgSpec's."""
    seed_path, ops_path = tmp_path / "big.json", tmp_path / "big.csv"
    argv = ["--fields", "10", "--activity-types", "1", "--object-types", "1", "--keys", "2"]
    assert main([*argv, "-o", str(seed_path), "--ops", str(ops_path)]) == 0
    seed = json.loads(seed_path.read_text(encoding="utf-8"))
    spec = BigOrgSpec(fields=10, activity_types=1, object_types=1, keys=2)
    assert seed == build_big_seed(spec)
    with ops_path.open(encoding="utf-8", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 10 * 5


def test_the_cli_refuses_a_bad_size(capsys: pytest.CaptureFixture[str]) -> None:
    """A share above 1 exits 2 with the reason and writes no seed."""
    assert main(["--fields", "3", "--associated", "2"]) == 2
    captured = capsys.readouterr()
    assert (captured.out, "associated must be between 0 and 1" in captured.err) == ("", True)


@pytest.mark.anyio
async def test_a_generated_org_reads_back_page_by_page(
    make_sim: MakeSim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GET custom_field/shared/ pages a 250-field org 100 at a time (has_more until the last
    page), the pages together equal the seed, and each field is rendered once: reading a list
    page by page costs its length, not its length per page."""
    path = tmp_path / "big.json"
    seed = build_big_seed(BigOrgSpec(fields=250, activity_types=3, object_types=3))
    path.write_text(json.dumps(seed), encoding="utf-8")
    sim = await make_sim(seed_path=path)
    rendered = []
    original = SharedField.to_json

    def counting(self: SharedField) -> dict[str, Any]:
        rendered.append(self.id)
        return original(self)

    monkeypatch.setattr(SharedField, "to_json", counting)
    pages: list[tuple[int, bool]] = []
    listed: list[dict[str, object]] = []
    while True:
        query = f"_skip={len(listed)}&_limit=100"
        reply = await sim.call("GET", f"custom_field/shared/?{query}", key=KEY)
        pages.append((len(reply.body["data"]), reply.body["has_more"]))
        listed += reply.body["data"]
        if not reply.body["has_more"]:
            break
    assert pages == [(100, True), (100, True), (50, False)]
    assert listed == seed["orgs"][0]["shared_custom_fields"]
    assert len(rendered) == len(set(rendered)) == 250
