"""The default seed: committed as generated, ids in Close's forms, a realistic source org and a
target org with the same names, different ids and no associations."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from scf_batch.sim import simulator
from scf_batch.sim.config import DEFAULT_SEED_PATH, SimConfig
from scf_batch.sim.seedgen import build_seed, render_seed
from scf_batch.sim.store import SeedError, load_orgs, read_seed

SEED = build_seed()
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


def test_the_target_org_mirrors_the_source_by_name_without_associations() -> None:
    """Same names of roles, types and fields; other ids; no associations."""
    for kind in ("roles", "custom_activity_types", "custom_object_types", "shared_custom_fields"):
        assert names(TARGET, kind) == names(SOURCE, kind)
        assert not {i["id"] for i in TARGET[kind]} & {i["id"] for i in SOURCE[kind]}
    assert [f["associations"] for f in TARGET["shared_custom_fields"]] == [[]] * len(
        TARGET["shared_custom_fields"]
    )


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
