"""Carrying out each step, against an in-memory fake of the association API.

`perform` plans the row against what the snapshot believed (by default: the fake's state, a
fresh snapshot) and carries the step out; a stale belief makes the write meet another state.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import Any

import pytest

from scf_batch.close.attempts import Attempts
from scf_batch.close.retry import RetryPolicy
from scf_batch.errors import (
    ApiError,
    AuthError,
    CloseError,
    NetworkError,
    RateLimited,
    ServerError,
)
from scf_batch.models import (
    Action,
    Association,
    ObjectType,
    Operation,
    Outcome,
    Ref,
    ResolvedOperation,
    RowResult,
    SchemaField,
    Status,
    Target,
)
from scf_batch.plan.prepare import Prepared
from scf_batch.plan.snapshot import Snapshot
from scf_batch.plan.steps import Step, plan_step
from scf_batch.run.executor import Executor
from scf_batch.run.pairs import REMOVED_MEANWHILE, PairVerdict, carry_out_pair
from scf_batch.runfolder.results import result_to_dict

pytestmark = pytest.mark.anyio

FIELD = "cf_" + "a" * 43
MISSING = "cf_" + "z" * 43
LEAD = Target(ObjectType.LEAD)
ACTIVITY = Target(ObjectType.CUSTOM_ACTIVITY_TYPE, "actitype_" + "b" * 22)


class FakeApi:
    """Association state in a dict; `faults` is a queue of (when, error) for the next writes:
    when="before" raises without applying, when="after" applies and then raises."""

    def __init__(self) -> None:
        self.fields = {FIELD}
        self.state: dict[tuple[str, str], dict[str, Any]] = {}
        self.faults: deque[tuple[str, Exception]] = deque()
        self.calls: list[str] = []

    def _fault(self, apply: Any) -> Any:
        if self.faults:
            when, error = self.faults.popleft()
            if when == "after":
                apply()
            raise error
        return apply()

    # the field calls of the executor's API: no association row makes them
    async def list_all(self, path: str) -> list[dict[str, Any]]:
        raise AssertionError(f"an association row read {path}")

    async def create_field(self, body: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("an association row created a field")

    async def update_field(self, scf_id: str, body: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("an association row updated a field")

    async def delete_field(self, scf_id: str) -> None:
        raise AssertionError("an association row deleted a field")

    async def get_schema(self, target: Target) -> list[SchemaField]:
        raise AssertionError("an association row read a schema")

    async def put_schema(self, target: Target, field_ids: list[str]) -> None:
        raise AssertionError("an association row wrote a schema")

    async def get_association(self, scf_id: str, target: Target) -> dict[str, Any] | None:
        self.calls.append("GET")
        return self.state.get((scf_id, target.path))

    async def get_field(self, scf_id: str) -> dict[str, Any] | None:
        self.calls.append("GET field")
        return {"id": scf_id} if scf_id in self.fields else None

    async def create_association(self, scf_id: str, body: dict[str, Any]) -> dict[str, Any]:
        self.calls.append("POST")
        if scf_id not in self.fields:
            raise ApiError("no such field", status=404)
        type_id = body.get("custom_activity_type_id") or body.get("custom_object_type_id")
        key = (scf_id, Target(ObjectType(body["object_type"]), type_id).path)

        def apply() -> dict[str, Any]:
            if key in self.state:
                raise ApiError("exists", status=400, field_errors={"object_type": "exists"})
            assoc = {
                "object_type": body["object_type"],
                "required": body.get("required", False),
                "editable_with_roles": body.get("editable_with_roles", []),
            }
            self.state[key] = assoc
            return assoc

        return self._fault(apply)  # type: ignore[no-any-return]

    async def update_association(
        self, scf_id: str, target: Target, body: dict[str, Any]
    ) -> dict[str, Any]:
        self.calls.append("PUT")
        key = (scf_id, target.path)

        def apply() -> dict[str, Any]:
            if key not in self.state:
                raise ApiError("no association", status=404)
            self.state[key].update(body)
            return self.state[key]

        return self._fault(apply)  # type: ignore[no-any-return]

    async def delete_association(self, scf_id: str, target: Target) -> None:
        self.calls.append("DELETE")
        key = (scf_id, target.path)

        def apply() -> None:
            if key not in self.state:
                raise ApiError("no association", status=404)
            del self.state[key]

        self._fault(apply)


def op(
    action: Action,
    *,
    field: str = FIELD,
    target: Target = LEAD,
    required: bool | None = None,
    roles: tuple[str, ...] | None = None,
) -> ResolvedOperation:
    operation = Operation(
        row=1,
        line=2,
        action=action,
        field=Ref(id=field),
        object_type=target.object_type,
        type_ref=Ref(id=target.type_id) if target.type_id else None,
        required=required,
        editable_with_roles=roles,
    )
    return ResolvedOperation(operation, field, target, roles)


async def no_sleep(_: float) -> None:
    return None


class StepRunner:
    """One row's pair carried out under one row's Attempts."""

    def __init__(self, api: FakeApi, attempts: Attempts) -> None:
        self.api = api
        self.attempts = attempts

    async def carry_out(
        self, rop: ResolvedOperation, step: Step, before: Association | None
    ) -> PairVerdict:
        return await carry_out_pair(self.api, self.attempts, rop, step, before)


def runner(api: FakeApi, *, max_retries: int = 3) -> StepRunner:
    attempts = Attempts(RetryPolicy(max_retries=max_retries), sleep=no_sleep, rand=lambda: 0.5)
    return StepRunner(api, attempts)


FRESH = object()  # the snapshot saw the fake's state as it is


def believed(api: FakeApi, rop: ResolvedOperation) -> Association | None:
    found = api.state.get((rop.scf_id, rop.target.path))
    if found is None:
        return None
    return Association(bool(found["required"]), frozenset(found["editable_with_roles"]))


async def perform(
    api: FakeApi, rop: ResolvedOperation, *, before: object = FRESH, r: StepRunner | None = None
) -> PairVerdict:
    """Plan against `before` (what the snapshot said) and carry the step out."""
    state = believed(api, rop) if before is FRESH else before
    assert state is None or isinstance(state, Association)
    return await (r or runner(api)).carry_out(rop, plan_step(rop, state), state)


def seed(api: FakeApi, target: Target = LEAD, **assoc: Any) -> None:
    api.state[(FIELD, target.path)] = {"required": False, "editable_with_roles": [], **assoc}


async def test_associate_creates_a_missing_association() -> None:
    """associate on a free pair POSTs once and reports created."""
    api = FakeApi()
    verdict = await perform(api, op(Action.ASSOCIATE, target=ACTIVITY, required=True))
    assert (Status.OK, Outcome.CREATED) == (verdict.status, verdict.outcome)
    assert api.state[(FIELD, ACTIVITY.path)]["required"] is True
    assert api.calls == ["POST"]


async def test_associate_with_the_same_settings_sends_nothing() -> None:
    """The snapshot shows the pair as asked: ok/already_associated without a request."""
    api = FakeApi()
    seed(api, required=True)
    verdict = await perform(api, op(Action.ASSOCIATE, required=True))
    assert (Status.OK, Outcome.ALREADY_ASSOCIATED) == (verdict.status, verdict.outcome)
    assert api.calls == []


async def test_associate_that_appeared_since_the_snapshot_is_confirmed_by_reading() -> None:
    """A 400 on create (the pair appeared after the snapshot) is confirmed by a GET: same
    settings means ok/already_associated, never created."""
    api = FakeApi()
    seed(api, required=True)
    verdict = await perform(api, op(Action.ASSOCIATE, required=True), before=None)
    assert (Status.OK, Outcome.ALREADY_ASSOCIATED) == (verdict.status, verdict.outcome)
    assert api.calls == ["POST", "GET"]


async def test_associate_with_other_settings_is_a_conflict() -> None:
    """An existing association with other settings fails the row as conflict, unchanged."""
    api = FakeApi()
    seed(api, required=True)
    verdict = await perform(api, op(Action.ASSOCIATE, required=False))
    assert (Status.FAILED, Outcome.CONFLICT) == (verdict.status, verdict.outcome)
    assert api.state[(FIELD, LEAD.path)]["required"] is True
    assert api.calls == []


async def test_associate_an_unknown_field_is_not_found() -> None:
    """A 404 on associate means the field does not exist (any more)."""
    verdict = await perform(FakeApi(), op(Action.ASSOCIATE, field=MISSING))
    assert (Status.FAILED, Outcome.NOT_FOUND, 404) == (
        verdict.status,
        verdict.outcome,
        verdict.http_status,
    )


async def test_associate_rejected_when_400_and_nothing_exists() -> None:
    """A 400 with no association behind it is a real rejection, with Close's field errors."""
    api = FakeApi()
    api.faults.append(("before", ApiError("bad", status=400, field_errors={"required": "bad"})))
    verdict = await perform(api, op(Action.ASSOCIATE))
    assert (Status.FAILED, Outcome.REJECTED, (("required", "bad"),)) == (
        verdict.status,
        verdict.outcome,
        verdict.field_errors,
    )
    assert api.calls == ["POST", "GET"]


async def test_associate_fault_after_apply_is_confirmed_not_replayed() -> None:
    """A 502 after the create landed is confirmed by a GET: created, and no second POST."""
    api = FakeApi()
    api.faults.append(("after", ServerError("bad gateway", status=502)))
    verdict = await perform(api, op(Action.ASSOCIATE))
    assert (Status.OK, Outcome.CREATED) == (verdict.status, verdict.outcome)
    assert api.calls == ["POST", "GET"]


async def test_a_pair_that_existed_before_the_run_is_never_reported_created() -> None:
    """A fault on a write to a pair the snapshot showed present cannot turn into `created`:
    ensure updates (fault after apply, PUT replayed safely) and reports updated."""
    api = FakeApi()
    seed(api, required=False)
    api.faults.append(("after", ServerError("bad gateway", status=502)))
    verdict = await perform(api, op(Action.ENSURE, required=True))
    assert (Status.OK, Outcome.UPDATED) == (verdict.status, verdict.outcome)
    assert api.calls == ["PUT", "PUT"]


async def test_associate_fault_before_apply_is_replayed() -> None:
    """A dropped connection before the create landed: the GET finds nothing, the POST is sent
    again and creates it."""
    api = FakeApi()
    api.faults.append(("before", NetworkError("reset")))
    verdict = await perform(api, op(Action.ASSOCIATE))
    assert (Status.OK, Outcome.CREATED) == (verdict.status, verdict.outcome)
    assert api.calls == ["POST", "GET", "POST"]


async def test_rate_limited_retries_do_not_use_up_max_retries() -> None:
    """Ten 429s in a row with max_retries=1 still end with the row created."""
    api = FakeApi()
    for _ in range(10):
        api.faults.append(("before", RateLimited("slow down", retry_after_s=0.01)))
    verdict = await perform(api, op(Action.ASSOCIATE), r=runner(api, max_retries=1))
    assert (Status.OK, Outcome.CREATED) == (verdict.status, verdict.outcome)
    assert api.calls.count("POST") == 11


async def test_persistent_server_errors_give_up() -> None:
    """5xx on every attempt ends the row as gave_up after max_retries, with the last status."""
    api = FakeApi()
    seed(api)
    for _ in range(10):
        api.faults.append(("before", ServerError("unavailable", status=503)))
    verdict = await perform(api, op(Action.UPDATE, required=True), r=runner(api, max_retries=2))
    assert (Status.FAILED, Outcome.GAVE_UP, 503) == (
        verdict.status,
        verdict.outcome,
        verdict.http_status,
    )
    assert api.calls.count("PUT") == 3


async def test_auth_errors_propagate_to_stop_the_run() -> None:
    """401 is not a row outcome: the step raises it for the runner to stop."""
    api = FakeApi()
    api.faults.append(("before", AuthError("unauthorized", status=401)))
    with pytest.raises(AuthError):
        await perform(api, op(Action.ASSOCIATE))


async def test_update_sends_only_the_differences() -> None:
    """update PUTs what differs from the association and reports updated."""
    api = FakeApi()
    seed(api, required=True, editable_with_roles=["admin"])
    verdict = await perform(api, op(Action.UPDATE, required=True, roles=("admin", "user")))
    assert (Status.OK, Outcome.UPDATED) == (verdict.status, verdict.outcome)
    assert {"required": True, "editable_with_roles": ["admin", "user"]} == api.state[
        (FIELD, LEAD.path)
    ]


async def test_update_that_changes_nothing_sends_nothing() -> None:
    """update to the settings already there: ok/unchanged without a request."""
    api = FakeApi()
    seed(api, required=True)
    verdict = await perform(api, op(Action.UPDATE, required=True))
    assert (Status.OK, Outcome.UNCHANGED, []) == (verdict.status, verdict.outcome, api.calls)


async def test_update_of_a_missing_association_is_not_associated_without_a_request() -> None:
    """The snapshot shows no association: failed/not_associated, nothing sent."""
    api = FakeApi()
    verdict = await perform(api, op(Action.UPDATE, required=True))
    assert (Status.FAILED, Outcome.NOT_ASSOCIATED, []) == (
        verdict.status,
        verdict.outcome,
        api.calls,
    )


async def test_update_of_an_association_removed_since_the_snapshot_is_not_associated() -> None:
    """A 404 on update, the field present: confirmed by reading, failed/not_associated."""
    api = FakeApi()
    stale = Association(False, frozenset())
    verdict = await perform(api, op(Action.UPDATE, required=True), before=stale)
    assert (Status.FAILED, Outcome.NOT_ASSOCIATED) == (verdict.status, verdict.outcome)
    assert api.calls == ["PUT", "GET", "GET field"]


async def test_update_of_a_missing_field_is_not_found() -> None:
    """A 404 on update with no such field fails the row as not_found."""
    stale = Association(False, frozenset())
    rop = op(Action.UPDATE, field=MISSING, required=True)
    verdict = await perform(FakeApi(), rop, before=stale)
    assert (Status.FAILED, Outcome.NOT_FOUND) == (verdict.status, verdict.outcome)


async def test_disassociate_deletes() -> None:
    """disassociate of an existing association reports deleted and removes it."""
    api = FakeApi()
    seed(api)
    verdict = await perform(api, op(Action.DISASSOCIATE))
    assert (Status.OK, Outcome.DELETED) == (verdict.status, verdict.outcome)
    assert api.state == {}


async def test_disassociate_of_an_absent_association_is_ok_not_associated() -> None:
    """Already absent: ok, not_associated, nothing sent."""
    api = FakeApi()
    verdict = await perform(api, op(Action.DISASSOCIATE))
    assert (Status.OK, Outcome.NOT_ASSOCIATED, []) == (verdict.status, verdict.outcome, api.calls)


async def test_disassociate_of_one_removed_since_the_snapshot_is_not_associated() -> None:
    """A 404 on delete, the field present: someone removed it first; ok, not_associated."""
    stale = Association(False, frozenset())
    verdict = await perform(FakeApi(), op(Action.DISASSOCIATE), before=stale)
    assert (Status.OK, Outcome.NOT_ASSOCIATED) == (verdict.status, verdict.outcome)


async def test_disassociate_of_a_missing_field_is_not_found() -> None:
    """A 404 on delete and no such field: failed, not_found."""
    stale = Association(False, frozenset())
    verdict = await perform(FakeApi(), op(Action.DISASSOCIATE, field=MISSING), before=stale)
    assert (Status.FAILED, Outcome.NOT_FOUND) == (verdict.status, verdict.outcome)


async def test_disassociate_fault_after_apply_is_deleted() -> None:
    """A timeout after the DELETE landed is confirmed by a GET and reported as deleted."""
    api = FakeApi()
    seed(api)
    api.faults.append(("after", NetworkError("timeout")))
    verdict = await perform(api, op(Action.DISASSOCIATE))
    assert (Status.OK, Outcome.DELETED) == (verdict.status, verdict.outcome)
    assert api.calls == ["DELETE", "GET"]


async def test_ensure_creates_when_absent() -> None:
    """ensure on a free pair creates it with one POST (the snapshot said it was absent)."""
    api = FakeApi()
    verdict = await perform(api, op(Action.ENSURE, required=True))
    assert (Status.OK, Outcome.CREATED) == (verdict.status, verdict.outcome)
    assert api.calls == ["POST"]


async def test_ensure_updates_when_different() -> None:
    """ensure on a pair with other settings updates it with one PUT."""
    api = FakeApi()
    seed(api, required=False)
    verdict = await perform(api, op(Action.ENSURE, required=True))
    assert (Status.OK, Outcome.UPDATED) == (verdict.status, verdict.outcome)
    assert api.state[(FIELD, LEAD.path)]["required"] is True
    assert api.calls == ["PUT"]


async def test_ensure_of_an_association_removed_since_the_snapshot_is_recreated() -> None:
    """ensure whose PUT meets a 404 reads, finds the pair gone and creates it again: labelled
    `recreated` (never `created`, as the pair existed before the run), with a note saying it
    was removed after the snapshot."""
    api = FakeApi()
    stale = Association(False, frozenset())
    verdict = await perform(api, op(Action.ENSURE, required=True), before=stale)
    assert (Status.OK, Outcome.RECREATED) == (verdict.status, verdict.outcome)
    assert verdict.note == REMOVED_MEANWHILE
    assert api.calls == ["PUT", "GET", "GET field", "POST"]


async def test_ensure_of_a_pair_absent_from_the_snapshot_is_created_without_a_note() -> None:
    """A create of a pair the snapshot did not hold stays `created`, with no note."""
    api = FakeApi()
    verdict = await perform(api, op(Action.ENSURE, required=True), before=None)
    assert (Status.OK, Outcome.CREATED, None) == (verdict.status, verdict.outcome, verdict.note)
    assert api.calls == ["POST"]


async def test_ensure_leaves_a_matching_association_unchanged() -> None:
    """ensure on a pair that already matches sends nothing."""
    api = FakeApi()
    seed(api, required=True, editable_with_roles=["user", "admin"])
    verdict = await perform(api, op(Action.ENSURE, required=True, roles=("admin", "user")))
    assert (Status.OK, Outcome.UNCHANGED) == (verdict.status, verdict.outcome)
    assert api.calls == []


async def test_ensure_with_unset_required_does_not_compare_it() -> None:
    """ensure that leaves `required` unset accepts whatever is there."""
    api = FakeApi()
    seed(api, required=True)
    verdict = await perform(api, op(Action.ENSURE, roles=()))
    assert Outcome.UNCHANGED == verdict.outcome


async def test_attempts_count_every_request_of_the_row() -> None:
    """The request counter counts confirmation reads too; the failure counts as a retry."""
    api = FakeApi()
    api.faults.append(("after", ServerError("oops", status=500)))
    r = runner(api)
    await perform(api, op(Action.ASSOCIATE), r=r)
    assert (r.attempts.count, r.attempts.retries) == (2, 1)


async def test_an_answer_no_rule_covers_fails_the_row_without_crashing() -> None:
    """A bare CloseError (e.g. a redirect) fails the row as rejected instead of escaping."""
    api = FakeApi()
    api.faults.append(("before", CloseError("HTTP 302 redirect", status=302)))
    verdict = await perform(api, op(Action.ASSOCIATE))
    assert (Status.FAILED, Outcome.REJECTED, 302) == (
        verdict.status,
        verdict.outcome,
        verdict.http_status,
    )


async def test_retries_count_only_repeats_after_a_failure() -> None:
    """A clean create has no retry; a create after a 429 has one."""
    clean, limited = runner(FakeApi()), runner(api := FakeApi())
    await perform(FakeApi(), op(Action.ENSURE), r=clean)
    api.faults.append(("before", RateLimited("slow down", retry_after_s=0.01)))
    await perform(api, op(Action.ASSOCIATE), r=limited)
    assert (clean.attempts.retries, limited.attempts.retries) == (0, 1)


async def test_writes_that_did_not_land_are_replayed_as_the_retry_policy_allows() -> None:
    """Five faults in a row before the create lands are no surprise about the pair's state:
    each is confirmed absent and replayed (within max_retries), and the row ends created."""
    api = FakeApi()
    for _ in range(5):
        api.faults.append(("before", ServerError("unavailable", status=503)))
    verdict = await perform(api, op(Action.ASSOCIATE), r=runner(api, max_retries=6))
    assert (Status.OK, Outcome.CREATED) == (verdict.status, verdict.outcome)
    assert api.calls == ["POST", "GET"] * 5 + ["POST"]


async def test_a_pair_that_keeps_changing_under_the_row_gives_up() -> None:
    """A pair read back in another state than planned for, again and again, ends gave_up."""

    class Flapping(FakeApi):
        async def create_association(self, scf_id: str, body: dict[str, Any]) -> dict[str, Any]:
            self.calls.append("POST")
            self.state[(scf_id, LEAD.path)] = {"required": True, "editable_with_roles": []}
            raise ApiError("exists", status=400)

        async def update_association(
            self, scf_id: str, target: Target, body: dict[str, Any]
        ) -> dict[str, Any]:
            self.calls.append("PUT")
            self.state.pop((scf_id, target.path), None)  # someone removed it meanwhile
            raise ApiError("no association", status=404)

    api = Flapping()
    verdict = await perform(api, op(Action.ENSURE, required=False))
    assert (Status.FAILED, Outcome.GAVE_UP) == (verdict.status, verdict.outcome)
    assert api.calls.count("POST") + api.calls.count("PUT") <= 5


def executor_for(api: FakeApi, *, resuming: bool = False) -> Executor:
    """An Executor over a snapshot that knows FIELD and ACTIVITY's type, and no association."""
    snapshot = Snapshot.from_lists(
        None,
        [{"id": FIELD, "name": "F", "associations": []}],
        [],
        [{"id": ACTIVITY.type_id, "name": "Call"}],
        [],
    )
    return Executor(api, snapshot, RetryPolicy(max_retries=0), resuming=resuming)


def prepared(rop: ResolvedOperation, row: int) -> Prepared:
    return Prepared(row, row + 1, None, op=rop.op, resolved=rop)


async def test_rows_of_a_pair_run_against_what_its_earlier_rows_left() -> None:
    """The executor remembers each pair's state: a repeat sends nothing, a later update sends
    only its change, and the other target of the same field is still created."""
    api = FakeApi()
    executor = executor_for(api)
    rows = [
        op(Action.ASSOCIATE),
        op(Action.ASSOCIATE),
        op(Action.UPDATE, required=True),
        op(Action.ENSURE, target=ACTIVITY, required=True),
        op(Action.UPDATE, required=True),
        op(Action.DISASSOCIATE),
        op(Action.UPDATE, required=False),
    ]
    outcomes = [(await executor.execute(prepared(r, n))).outcome for n, r in enumerate(rows, 1)]
    assert outcomes == [
        Outcome.CREATED,
        Outcome.ALREADY_ASSOCIATED,
        Outcome.UPDATED,
        Outcome.CREATED,
        Outcome.UNCHANGED,
        Outcome.DELETED,
        Outcome.NOT_ASSOCIATED,
    ]
    assert api.calls == ["POST", "PUT", "POST", "DELETE"]


async def test_a_field_the_snapshot_lacks_still_chains_its_rows() -> None:
    """A pair the snapshot cannot number (its field came later) is remembered all the same."""
    api = FakeApi()
    api.fields.add(MISSING)
    executor = executor_for(api)
    first = await executor.execute(prepared(op(Action.ASSOCIATE, field=MISSING), 1))
    again = await executor.execute(prepared(op(Action.ASSOCIATE, field=MISSING), 2))
    assert (first.outcome, again.outcome) == (Outcome.CREATED, Outcome.ALREADY_ASSOCIATED)
    assert api.calls == ["POST"]


def test_the_result_line_of_a_recreated_pair_says_it_was_removed_after_the_snapshot() -> None:
    """A row's note reaches its result line; a row without one keeps the line as it was."""
    base = RowResult(
        row=1, line=2, key=None, action="ensure", status=Status.OK, outcome=Outcome.CREATED
    )
    recreated = replace(base, outcome=Outcome.RECREATED, note=REMOVED_MEANWHILE)
    assert "note" not in result_to_dict(base)
    line = result_to_dict(recreated)
    assert (line["outcome"], line["note"]) == ("recreated", REMOVED_MEANWHILE)
