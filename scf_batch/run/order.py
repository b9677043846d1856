"""Carrying out an order row: read the object's schema, PUT the order plan/order.py computes,
read it back to confirm. One result line per row.

Idempotent by construction: the PUT names every field of the object in its final place, so a
replay after an unknown fate lands the same order, and a rerun reads an order that already
holds and sends nothing. The narrow interface (`OrderExecutor.execute(order, target)`) lets the
row pipeline call it for an order row once the definitions and associations have run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from scf_batch.close.attempts import Attempts
from scf_batch.close.retry import RetryPolicy
from scf_batch.errors import ApiError, AuthError, CloseError, GaveUp
from scf_batch.job.order import FieldOrder
from scf_batch.models import Outcome, RowResult, SchemaField, Status, Target
from scf_batch.plan.order import reorder
from scf_batch.run.executor import utc_now

ORDER_ACTION = "order"


class SchemaApi(Protocol):
    """The client calls an order row needs (CloseClient implements them)."""

    async def get_schema(self, target: Target) -> list[SchemaField]: ...
    async def put_schema(self, target: Target, field_ids: list[str]) -> None: ...


@dataclass(frozen=True, slots=True)
class OrderVerdict:
    """How an order row ended."""

    status: Status
    outcome: Outcome
    http_status: int | None = None
    error: str | None = None


class OrderExecutor:
    """Runs order rows against one org, one result line each."""

    def __init__(
        self,
        api: SchemaApi,
        policy: RetryPolicy,
        *,
        org_id: str | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.policy = policy
        self.org_id = org_id
        self.clock = clock

    async def execute(self, order: FieldOrder, target: Target) -> RowResult:
        """The order row's result line; `target` is its object with the custom type resolved."""
        started = self.clock()
        attempts = Attempts(self.policy)
        verdict = await self._verdict(order, target, attempts)
        return RowResult(
            row=order.row,
            line=order.line,
            key=order.key,
            action=ORDER_ACTION,
            status=verdict.status,
            outcome=verdict.outcome,
            object_type=target.object_type.value,
            target=target.type_id,
            target_name=order.type_name,
            org=self.org_id,
            http_status=verdict.http_status,
            requests=attempts.count,
            retries=attempts.retries,
            error=verdict.error,
            duration_ms=round((self.clock() - started) * 1000),
            finished_at=utc_now(),
        )

    async def _verdict(self, order: FieldOrder, target: Target, attempts: Attempts) -> OrderVerdict:
        try:
            return await self._carry_out(order, target, attempts)
        except GaveUp as exc:
            return _failed(Outcome.GAVE_UP, exc.last)
        except AuthError:
            raise
        except CloseError as exc:
            outcome = Outcome.NOT_FOUND if exc.status == 404 else Outcome.REJECTED
            return _failed(outcome, exc)

    async def _carry_out(
        self, order: FieldOrder, target: Target, attempts: Attempts
    ) -> OrderVerdict:
        schema = await attempts.run(lambda: self.api.get_schema(target), safe=True)
        ids = reorder(schema, order.fields)
        if ids is None:
            return OrderVerdict(Status.OK, Outcome.UNCHANGED)
        await attempts.run(lambda: self.api.put_schema(target, ids), safe=True)
        after = await attempts.run(lambda: self.api.get_schema(target), safe=True)
        if reorder(after, order.fields) is not None:
            return _failed(Outcome.REJECTED, "the order read back is not the order sent")
        return OrderVerdict(Status.OK, Outcome.UPDATED, 200)


def _failed(outcome: Outcome, error: CloseError | str | None) -> OrderVerdict:
    if isinstance(error, ApiError | CloseError):
        return OrderVerdict(Status.FAILED, outcome, error.status, str(error))
    return OrderVerdict(Status.FAILED, outcome, None, error)
