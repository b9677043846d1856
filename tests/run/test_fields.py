"""Carrying out a definition row through the run's executor: a create whose fate is unknown is
confirmed by reading the field list by name before it is sent again, so a field is never created
twice; the field as it now is extends the snapshot the association rows run against."""

from __future__ import annotations

from typing import Any

import pytest

from scf_batch.close.retry import RetryPolicy
from scf_batch.errors import ApiError, NetworkError
from scf_batch.models import FieldDefinition, RowResult, SchemaField, Target
from scf_batch.plan.fields import FieldPlanner, fields_by_id
from scf_batch.plan.prepare import Prepared
from scf_batch.plan.snapshot import Snapshot
from scf_batch.run.executor import Executor

pytestmark = pytest.mark.anyio
POLICY = RetryPolicy(max_retries=3, base_delay_s=0.0, max_delay_s=0.0)


class FakeOrg:
    """Fields by id; `drop_after_apply` / `drop_before_apply` make the next creates fail."""

    def __init__(self, *fields: dict[str, Any]) -> None:
        self.fields = {f["id"]: dict(f) for f in fields}
        self.drop_after_apply = 0
        self.drop_before_apply = 0
        self.creates = 0
        self.lists = 0

    async def list_all(self, path: str) -> list[dict[str, Any]]:
        self.lists += 1
        return [dict(f) for f in self.fields.values()]

    async def create_field(self, body: dict[str, Any]) -> dict[str, Any]:
        self.creates += 1
        if self.drop_before_apply:
            self.drop_before_apply -= 1
            raise NetworkError("dropped")
        if any(f["name"] == body["name"] for f in self.fields.values()):
            raise ApiError("name taken", status=400, field_errors={"name": "already exists"})
        new = {**body, "id": f"cf_{len(self.fields) + 1}", "associations": []}
        self.fields[new["id"]] = new
        if self.drop_after_apply:
            self.drop_after_apply -= 1
            raise NetworkError("dropped after apply")
        return dict(new)

    async def update_field(self, scf_id: str, body: dict[str, Any]) -> dict[str, Any]:
        self.fields[scf_id].update(body)
        return dict(self.fields[scf_id])

    # the association calls of the executor's API: no definition row makes them
    async def get_association(self, scf_id: str, target: Target) -> dict[str, Any] | None:
        raise AssertionError("a definition row read an association")

    async def create_association(self, scf_id: str, body: dict[str, Any]) -> object:
        raise AssertionError("a definition row created an association")

    async def update_association(self, scf_id: str, target: Target, body: dict[str, Any]) -> object:
        raise AssertionError("a definition row updated an association")

    async def delete_association(self, scf_id: str, target: Target) -> None:
        raise AssertionError("a definition row deleted an association")

    async def get_field(self, scf_id: str) -> dict[str, Any] | None:
        raise AssertionError("a definition row read one field")

    async def get_schema(self, target: Target) -> list[SchemaField]:
        raise AssertionError("a definition row read a schema")

    async def put_schema(self, target: Target, field_ids: list[str]) -> None:
        raise AssertionError("a definition row wrote a schema")


RISK = FieldDefinition(1, 1, "Risk", "choices", ("Low", "High"))


async def run(org: FakeOrg, before: FakeOrg | None = None) -> tuple[RowResult, Any]:
    """The definition's result line, and the field in the snapshot the association rows get."""
    snapshot = Snapshot.from_lists(None, list((before or org).fields.values()), [], [], [])
    planned = FieldPlanner(snapshot).plan(RISK, "j.jsonl")
    executor = Executor(org, snapshot, POLICY, resuming=False)
    result = await executor.execute(Prepared(1, 1, None, definition=RISK, field_plan=planned))
    fields = fields_by_id(executor.settle_definitions())
    return result, fields.get(result.scf_id or "")


async def test_a_create_that_landed_without_an_answer_is_not_sent_again() -> None:
    """Dropped after apply: the list shows the field, the row is `created`, one field exists."""
    org = FakeOrg()
    org.drop_after_apply = 1
    result, obj = await run(org)
    assert (result.status, result.outcome, org.creates, org.lists) == ("ok", "created", 1, 1)
    assert [f["name"] for f in org.fields.values()] == ["Risk"]
    assert obj["id"] == "cf_1"


async def test_a_create_that_did_not_land_is_sent_again_after_reading() -> None:
    """Dropped before apply: the list shows no such field, the create is sent once more."""
    org = FakeOrg()
    org.drop_before_apply = 1
    result, _ = await run(org)
    assert (result.outcome, org.creates, org.lists, result.requests) == ("created", 2, 1, 3)


async def test_a_create_refused_because_the_field_appeared_is_planned_again() -> None:
    """Someone made the field since the snapshot: 400, read, then brought in line (update)."""
    org = FakeOrg({"id": "cf_9", "name": "Risk", "type": "choices", "choices": ["Low"]})
    result, obj = await run(org, before=FakeOrg())
    assert (result.outcome, org.creates, obj["choices"]) == ("updated", 1, ["Low", "High"])
