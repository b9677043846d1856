"""An order row's write: read the object's schema, PUT the order plan/order.py computes, read
it back to confirm.

Idempotent by construction: the PUT names every field of the object in its final place, so a
replay after an unknown fate lands the same order (the PUT is safe to replay), and a rerun reads
an order that already holds and sends nothing. The executor runs order rows after every other
row, so the fields the job defined and associated are in the schema by then.
"""

from __future__ import annotations

from typing import Protocol

from scf_batch.close.attempts import Attempts
from scf_batch.errors import AuthError, CloseError, GaveUp, ServerRefusing
from scf_batch.models import Outcome, SchemaField, Status, StepKind, Target
from scf_batch.plan.order import plan_order
from scf_batch.run.confirm import Verdict, failed

OrderVerdict = Verdict[None]


class SchemaApi(Protocol):
    """The client calls an order row needs (CloseClient implements them)."""

    async def get_schema(self, target: Target) -> list[SchemaField]: ...
    async def put_schema(self, target: Target, field_ids: list[str]) -> None: ...


async def carry_out_order(
    api: SchemaApi, attempts: Attempts, target: Target, wanted: tuple[str, ...]
) -> OrderVerdict:
    """Bring the object's shared fields into the wanted relative order, confirmed by reading."""
    try:
        return await _carry_out(api, attempts, target, wanted)
    except GaveUp as exc:
        return failed(Outcome.GAVE_UP, None, exc.last)
    except (AuthError, ServerRefusing):
        raise  # not a row outcome: the run stops
    except CloseError as exc:
        outcome = Outcome.NOT_FOUND if exc.status == 404 else Outcome.REJECTED
        return failed(outcome, None, exc)


async def _carry_out(
    api: SchemaApi, attempts: Attempts, target: Target, wanted: tuple[str, ...]
) -> OrderVerdict:
    schema = await attempts.run(lambda: api.get_schema(target), safe=True)
    step = plan_order(schema, wanted)
    if step.kind is StepKind.NOTHING or step.ids is None:
        return Verdict(Status.OK, Outcome.UNCHANGED, None)
    ids = step.ids
    await attempts.run(lambda: api.put_schema(target, ids), safe=True)
    after = await attempts.run(lambda: api.get_schema(target), safe=True)
    if plan_order(after, wanted).kind is not StepKind.NOTHING:
        return failed(Outcome.REJECTED, None, "the order read back is not the order sent")
    return Verdict(Status.OK, Outcome.UPDATED, None, 200)
