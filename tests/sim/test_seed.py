"""The default seed: committed as generated, ids in Close's forms, a realistic source org and a
target org with the same roles and types, different ids, no associations, three fields fewer
and one choices field with fewer choices."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from scf_batch.sim import simulator
from scf_batch.sim.config import DEFAULT_SEED_PATH, SimConfig
from scf_batch.sim.seedgen import SOURCE_ONLY, build_seed, render_seed
from scf_batch.sim.store import SeedError, load_orgs, read_seed

SEED = build_seed()
REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "data" / "examples"
DEMO = REPO / "data" / "demo" / "onboarding.csv"
SOURCE, TARGET = SEED["orgs"]
ID_FORMS = {
    "id": r"orga_[0-9A-Za-z]{43}",
    "roles": r"role_[0-9A-Za-z]{22}",
    "custom_activity_types": r"actitype_[0-9A-Za-z]{22}",
    "custom_object_types": r"cotype_[0-9A-Za-z]{22}",
    "shared_custom_fields": r"cf_[0-9A-Za-z]{43}",
    "users": r"user_[0-9A-Za-z]{43}",
}


def names(org: dict[str, object], kind: str) -> list[str]:
    return [item["name"] for item in org[kind]]  # type: ignore[attr-defined]


def test_the_committed_seed_is_the_generators_output() -> None:
    """data/sim/seed.json equals what seedgen renders, so ids never drift."""
    assert DEFAULT_SEED_PATH.read_text(encoding="utf-8") == render_seed()


def test_the_default_seed_path_does_not_depend_on_the_working_directory() -> None:
    """SimConfig's default seed path is absolute and names the committed file."""
    assert SimConfig().seed_path.is_absolute()
    assert SimConfig().seed_path.exists()


@pytest.mark.parametrize("org", [SOURCE, TARGET], ids=["source", "target"])
def test_ids_have_closes_forms_and_are_unique(org: dict[str, object]) -> None:
    """Every id matches Close's prefix + base62 form and no id repeats."""
    ids: list[str] = []
    for kind, form in ID_FORMS.items():
        found = [org["id"]] if kind == "id" else [i["id"] for i in org[kind]]  # type: ignore[attr-defined]
        assert all(re.fullmatch(form, str(i)) for i in found), kind
        ids += [str(i) for i in found]
    assert len(ids) == len(set(ids))


def test_the_source_org_is_realistic() -> None:
    """About 20 fields of most types, associated with all five object types, roles in use."""
    fields = SOURCE["shared_custom_fields"]
    associations = [a for f in fields for a in f["associations"]]
    roles_used = {r for a in associations for r in a["editable_with_roles"]}
    assert len(fields) >= 20
    assert len({f["type"] for f in fields}) >= 8
    assert set(Counter(a["object_type"] for a in associations)) == {
        "lead", "contact", "opportunity", "custom_activity_type", "custom_object_type",
    }  # fmt: skip
    assert {"admin", *(r["id"] for r in SOURCE["roles"])} == roles_used
    assert len({a.get("custom_activity_type_id") for a in associations} - {None}) >= 3


def fields_by_name(org: dict[str, object]) -> dict[str, dict[str, object]]:
    return {f["name"]: f for f in org["shared_custom_fields"]}  # type: ignore[attr-defined]


def test_the_target_org_has_the_sources_roles_and_types_without_associations() -> None:
    """Same names of roles and custom types (so a migration needs none created); other ids;
    no field of the target has an association."""
    for kind in ("roles", "custom_activity_types", "custom_object_types", "shared_custom_fields"):
        assert not {i["id"] for i in TARGET[kind]} & {i["id"] for i in SOURCE[kind]}
    for kind in ("roles", "custom_activity_types", "custom_object_types"):
        assert names(TARGET, kind) == names(SOURCE, kind)
    assert [f["associations"] for f in TARGET["shared_custom_fields"]] == [[]] * len(
        TARGET["shared_custom_fields"]
    )


def test_the_target_lacks_three_of_the_sources_fields_and_has_no_field_of_its_own() -> None:
    """A migration has definitions to create: the target's fields are the source's, in the
    source's order, minus SOURCE_ONLY, and these three have associations in the source."""
    source, target = fields_by_name(SOURCE), fields_by_name(TARGET)
    assert sorted(source.keys() - target.keys()) == sorted(SOURCE_ONLY)
    assert len(SOURCE_ONLY) == 3
    assert names(TARGET, "shared_custom_fields") == [
        n for n in names(SOURCE, "shared_custom_fields") if n not in SOURCE_ONLY
    ]
    assert all(source[name]["associations"] for name in SOURCE_ONLY)


def test_the_targets_definitions_differ_only_where_the_seed_says() -> None:
    """Industry has fewer choices in the target (a strict, ordered subset), Health Score
    another description; everything else about the common fields is equal."""
    source, target = fields_by_name(SOURCE), fields_by_name(TARGET)
    industry_source, industry_target = source["Industry"]["choices"], target["Industry"]["choices"]
    assert isinstance(industry_source, list)
    assert isinstance(industry_target, list)
    assert len(industry_target) < len(industry_source)
    assert industry_target == [c for c in industry_source if c in industry_target]
    assert source["Health Score"]["description"] != target["Health Score"]["description"]
    compared = ("type", "accepts_multiple_values", "choices", "description")
    differences = {
        (name, key) for name in target for key in compared if source[name][key] != target[name][key]
    }
    assert differences == {("Industry", "choices"), ("Health Score", "description")}


@pytest.mark.parametrize("org", [SOURCE, TARGET], ids=["source", "target"])
def test_custom_object_fields_reference_a_custom_object_type_of_their_org(
    org: dict[str, object],
) -> None:
    """Each custom_object field names one of its own org's custom object types, and the same
    type by name in both orgs; other fields carry no `referenced_custom_type_id`."""
    type_names = {t["id"]: t["name"] for t in org["custom_object_types"]}  # type: ignore[attr-defined]
    referenced = {
        f["name"]: type_names[f["referenced_custom_type_id"]]
        for f in org["shared_custom_fields"]  # type: ignore[attr-defined]
        if f["type"] == "custom_object"
    }
    assert referenced["Related Assets"] == "Asset"
    assert all(
        "referenced_custom_type_id" not in f
        for f in org["shared_custom_fields"]  # type: ignore[attr-defined]
        if f["type"] != "custom_object"
    )


def shipped_field_names() -> tuple[set[str], set[str]]:
    """Every `scf_name` the demo and the examples name (CSV columns and JSONL keys), and those
    a JSONL job defines itself (`"define": "field"` lines)."""
    found: set[str] = set()
    defined: set[str] = set()
    for path in [*EXAMPLES.glob("*.csv"), *EXAMPLES.glob("*.jsonl"), DEMO]:
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".csv":
            found |= {row.get("scf_name") or "" for row in csv.DictReader(io.StringIO(text))}
        found |= set(re.findall(r'"scf_name":\s*"([^"]*)"', text))
        defined |= set(re.findall(r'"define":\s*"field",\s*"scf_name":\s*"([^"]*)"', text))
    return found - {""}, defined


def test_no_shipped_job_names_a_field_the_target_lacks() -> None:
    """The demo and the examples keep working on the target: the fields it lacks are named by
    none of them unless the job defines them (and the shipped files name most of the seed's
    other fields)."""
    shipped, defined = shipped_field_names()
    assert not (shipped - defined) & set(SOURCE_ONLY)
    assert set(SOURCE_ONLY) <= defined  # the migration example brings them along
    assert len(shipped & set(fields_by_name(TARGET))) >= 20


def test_keys_and_tokens_are_the_documented_ones() -> None:
    """The API keys and OAuth tokens the README lists."""
    assert [(o["name"], o["api_keys"], o["oauth_tokens"]) for o in SEED["orgs"]] == [
        ("Acme Source", ["api_source_key_1", "api_source_key_2"], ["oauth_source_token_1"]),
        ("Acme Target", ["api_target_key_1", "api_target_key_2"], ["oauth_target_token_1"]),
    ]


def test_a_missing_default_seed_file_is_built_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Installed without the repository's data/ folder, the default seed still loads."""
    missing = tmp_path / "seed.json"
    monkeypatch.setattr(simulator, "DEFAULT_SEED_PATH", missing)
    assert simulator.load_seed(missing) == SEED


@pytest.mark.parametrize(
    "content", ["{not json", "[]", '{"orgs": 1}', '{"orgs": [{"name": "no id"}]}']
)
def test_a_broken_seed_is_a_seed_error(tmp_path: Path, content: str) -> None:
    """Unreadable JSON or the wrong shape raise SeedError naming the problem."""
    path = tmp_path / "seed.json"
    path.write_text(content)
    with pytest.raises(SeedError):
        load_orgs(read_seed(path))


def test_a_missing_explicit_seed_is_a_seed_error(tmp_path: Path) -> None:
    """An explicit seed path that does not exist is not replaced by the default."""
    with pytest.raises(SeedError, match="cannot read"):
        simulator.load_seed(tmp_path / "nope.json")


def test_an_org_without_users_gets_one(tmp_path: Path) -> None:
    """A minimal seed org (id, name, keys) loads, with a user to record changes as."""
    path = tmp_path / "seed.json"
    path.write_text(json.dumps({"orgs": [{"id": "orga_x", "name": "X", "api_keys": ["k"]}]}))
    (org,) = load_orgs(read_seed(path))
    assert org.user_id.startswith("user_")
