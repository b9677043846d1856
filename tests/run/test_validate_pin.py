"""`validate --online` honours the spec's org pin, as `run` and `plan` do."""

from __future__ import annotations

from pathlib import Path

import pytest

from scf_batch.errors import UsageError
from scf_batch.plan.snapshot import Snapshot
from scf_batch.run import validation


def test_validate_online_refuses_a_key_of_another_org(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A spec pinned to orga_wanted with a key of orga_other stops, naming both orgs."""
    (tmp_path / "o.csv").write_text("scf_name,object_type,action\nIndustry,lead,ensure\n")
    spec = tmp_path / "job.toml"
    spec.write_text('operations = "o.csv"\norganization_id = "orga_wanted"\n')
    other = Snapshot.from_lists(
        {"organizations": [{"id": "orga_other", "name": "Other"}]}, [], [], [], []
    )

    async def fetch(*_: object) -> Snapshot:
        return other

    monkeypatch.setattr(validation, "_fetch", fetch)
    with pytest.raises(
        UsageError, match=r'key of the org "Other" \(orga_other\); expected .*"orga_wanted"'
    ):
        validation.validate_job(
            spec, online=True, base_url=None, environ={"CLOSE_API_KEY": "api_x"}
        )
