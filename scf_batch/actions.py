"""associate / update / disassociate / ensure as sequences of client calls.

Each action returns a Verdict: the row's status and outcome. Ambiguous answers are confirmed
by reading state, never by reading error text (CLOSE_API.md, "Robust client rules"): a 400 on
associate is followed by a GET of the association, a 404 on update or disassociate by a GET of
the field. A POST or DELETE whose fate is unknown (5xx, timeout, dropped connection) is
confirmed by a GET before it is replayed, so a retry never creates a duplicate.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import anyio

from scf_batch.errors import ApiError, AuthError, CloseError, RateLimited, TransientError
from scf_batch.models import Action, ObjectType, Outcome, ResolvedOperation, Status, Target
from scf_batch.retry import RetryPolicy, decide

T = TypeVar("T")


class AssociationApi(Protocol):
    """The client calls the actions need (CloseClient implements them)."""

    async def get_association(self, scf_id: str, target: Target) -> dict[str, Any] | None: ...
    async def create_association(self, scf_id: str, body: dict[str, Any]) -> dict[str, Any]: ...
    async def update_association(
        self, scf_id: str, target: Target, body: dict[str, Any]
    ) -> dict[str, Any]: ...
    async def delete_association(self, scf_id: str, target: Target) -> None: ...
    async def get_field(self, scf_id: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True, slots=True)
class Verdict:
    """How a row ended."""

    status: Status
    outcome: Outcome
    http_status: int | None = None
    error: str | None = None
    field_errors: tuple[tuple[str, str], ...] = ()


class GaveUp(Exception):
    """Retries or the row's time cap ran out; carries the last error."""

    def __init__(self, last: CloseError) -> None:
        super().__init__(str(last))
        self.last = last


class UnknownFate(Exception):
    """A write got no clear answer: it may have been applied. Confirm before replaying."""


class Attempts:
    """Sends one row's requests under the retry policy and counts them."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.policy = policy
        self.count = 0
        self.failures = 0
        self.rate_limited = 0
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        self._started = clock()

    @property
    def retried(self) -> bool:
        """Whether any request of the row had to be sent again (429 or transient error)."""
        return self.failures + self.rate_limited > 0

    async def run(self, call: Callable[[], Awaitable[T]], *, safe: bool) -> T:
        """Send `call` until it answers; a replay-unsafe call raises UnknownFate after a
        transient failure (having waited its backoff) so the caller can confirm first."""
        while True:
            self.count += 1
            try:
                return await call()
            except TransientError as exc:
                is_429 = isinstance(exc, RateLimited)
                delay = decide(
                    exc,
                    attempt=self.failures,  # earlier non-429 failures of this row
                    elapsed_s=self._clock() - self._started,
                    policy=self.policy,
                    rand=self._rand(),
                )
                if is_429:
                    self.rate_limited += 1
                else:
                    self.failures += 1
                if delay is None:
                    raise GaveUp(exc) from exc
                # A 429 already paused the endpoint group in the pacer; the next acquire waits.
                if not is_429:
                    await self._sleep(delay)
                if not safe and not is_429:
                    raise UnknownFate from exc


@dataclass(frozen=True, slots=True)
class Desired:
    """The settings a row asks for; None means "not set by the row"."""

    required: bool | None
    roles: tuple[str, ...] | None

    def matches(self, existing: Mapping[str, Any]) -> bool:
        if self.required is not None and bool(existing.get("required", False)) != self.required:
            return False
        if self.roles is None:
            return True
        return set(existing.get("editable_with_roles") or ()) == set(self.roles)

    def changes(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.required is not None:
            body["required"] = self.required
        if self.roles is not None:
            body["editable_with_roles"] = list(self.roles)
        return body


def creation_body(rop: ResolvedOperation, desired: Desired) -> dict[str, Any]:
    """The POST body: bare object type, the specific type's id, and the settings."""
    target = rop.target
    body: dict[str, Any] = {"object_type": target.object_type.value}
    if target.object_type is ObjectType.CUSTOM_ACTIVITY_TYPE:
        body["custom_activity_type_id"] = target.type_id
    elif target.object_type is ObjectType.CUSTOM_OBJECT_TYPE:
        body["custom_object_type_id"] = target.type_id
    body["required"] = bool(desired.required)
    if desired.roles is not None:
        body["editable_with_roles"] = list(desired.roles)
    return body


def ok(outcome: Outcome, status: int | None = None) -> Verdict:
    return Verdict(Status.OK, outcome, status)


def failed(outcome: Outcome, error: CloseError | str | None = None) -> Verdict:
    if isinstance(error, CloseError):
        fields = error.field_errors if isinstance(error, ApiError) else {}
        return Verdict(
            Status.FAILED, outcome, error.status, str(error), tuple(sorted(fields.items()))
        )
    return Verdict(Status.FAILED, outcome, None, error)


class ActionRunner:
    """Carries out one resolved row against the API."""

    def __init__(self, api: AssociationApi, attempts: Attempts) -> None:
        self.api = api
        self.attempts = attempts

    async def perform(self, rop: ResolvedOperation) -> Verdict:
        action = rop.op.action
        try:
            if action is Action.ASSOCIATE:
                return await self.associate(rop, ensure=False)
            if action is Action.UPDATE:
                return await self.update(rop)
            if action is Action.DISASSOCIATE:
                return await self.disassociate(rop)
            return await self.ensure(rop)
        except GaveUp as exc:
            return failed(Outcome.GAVE_UP, exc.last)
        except AuthError:
            raise  # not a row outcome: the run stops
        except CloseError as exc:
            # an answer no rule covers (a redirect, a 2xx without a JSON object): the row
            # fails with what was seen; `retry` can pick it up once someone has looked
            return failed(Outcome.REJECTED, exc)

    async def _get(self, rop: ResolvedOperation) -> dict[str, Any] | None:
        return await self.attempts.run(
            lambda: self.api.get_association(rop.scf_id, rop.target), safe=True
        )

    async def _field_exists(self, rop: ResolvedOperation) -> bool:
        found = await self.attempts.run(lambda: self.api.get_field(rop.scf_id), safe=True)
        return found is not None

    async def associate(self, rop: ResolvedOperation, *, ensure: bool) -> Verdict:
        required = rop.op.required
        desired = Desired(False if required is None and not ensure else required, _roles(rop))
        body = creation_body(rop, desired)
        maybe_applied = False
        while True:
            try:
                await self.attempts.run(
                    lambda: self.api.create_association(rop.scf_id, body), safe=False
                )
            except UnknownFate:
                maybe_applied = True
                existing = await self._get(rop)
                if existing is None:
                    continue  # it did not land: replaying cannot duplicate
                return await self._settle(rop, existing, desired, maybe_applied, ensure)
            except ApiError as exc:
                if exc.status == 404:
                    return failed(Outcome.NOT_FOUND, exc)
                existing = await self._get(rop) if exc.status == 400 else None
                if existing is None:
                    return failed(Outcome.REJECTED, exc)
                return await self._settle(rop, existing, desired, maybe_applied, ensure)
            return ok(Outcome.CREATED, 201)

    async def _settle(
        self,
        rop: ResolvedOperation,
        existing: Mapping[str, Any],
        desired: Desired,
        maybe_applied: bool,
        ensure: bool,
    ) -> Verdict:
        """The association exists after a create that failed or was ambiguous."""
        if desired.matches(existing):
            if maybe_applied:
                return ok(Outcome.CREATED)
            return ok(Outcome.UNCHANGED if ensure else Outcome.ALREADY_ASSOCIATED)
        if ensure:
            return await self._put(rop, desired)
        return failed(Outcome.CONFLICT, "associated already, with other settings")

    async def _put(self, rop: ResolvedOperation, desired: Desired) -> Verdict:
        body = desired.changes()
        try:
            await self.attempts.run(
                lambda: self.api.update_association(rop.scf_id, rop.target, body), safe=True
            )
        except ApiError as exc:
            if exc.status != 404:
                return failed(Outcome.REJECTED, exc)
            if await self._field_exists(rop):
                return failed(Outcome.NOT_ASSOCIATED, exc)
            return failed(Outcome.NOT_FOUND, exc)
        return ok(Outcome.UPDATED, 200)

    async def update(self, rop: ResolvedOperation) -> Verdict:
        return await self._put(rop, Desired(rop.op.required, _roles(rop)))

    async def disassociate(self, rop: ResolvedOperation) -> Verdict:
        maybe_applied = False
        while True:
            try:
                await self.attempts.run(
                    lambda: self.api.delete_association(rop.scf_id, rop.target), safe=False
                )
            except UnknownFate:
                maybe_applied = True
                if await self._get(rop) is not None:
                    continue  # still there: replaying the DELETE is what we want
                return await self._absent(rop, maybe_applied)
            except ApiError as exc:
                if exc.status != 404:
                    return failed(Outcome.REJECTED, exc)
                return await self._absent(rop, maybe_applied, exc)
            return ok(Outcome.DELETED, 204)

    async def _absent(
        self, rop: ResolvedOperation, maybe_applied: bool, exc: ApiError | None = None
    ) -> Verdict:
        if not await self._field_exists(rop):
            return failed(Outcome.NOT_FOUND, exc or "the field does not exist")
        return ok(Outcome.DELETED if maybe_applied else Outcome.NOT_ASSOCIATED)

    async def ensure(self, rop: ResolvedOperation) -> Verdict:
        desired = Desired(rop.op.required, _roles(rop))
        existing = await self._get(rop)
        if existing is None:
            return await self.associate(rop, ensure=True)
        if desired.matches(existing):
            return ok(Outcome.UNCHANGED, 200)
        return await self._put(rop, desired)


def _roles(rop: ResolvedOperation) -> tuple[str, ...] | None:
    return rop.editable_with_roles
