"""The one preparation pass: read -> check -> conflicts -> resolve -> plan, once for each row.

`prepare` yields one `Prepared` per row the job's reader yields (job/opsfile.py), in input
order, memory flat however long the file; `survey` runs it to the end and counts what
`validate`, `plan` and `run` report. Without a snapshot the pass is offline: rows are checked
but not resolved or planned.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field

from scf_batch.errors import JobHeaderError
from scf_batch.models import (
    FieldDefinition,
    FieldOrder,
    Operation,
    Problem,
    ResolvedOperation,
    RowError,
    StepKind,
    Target,
)
from scf_batch.plan.fields import FieldPlanner, PlannedField
from scf_batch.plan.lacking import Lacking
from scf_batch.plan.order import OrderStep, resolve_order
from scf_batch.plan.protect import NO_PROTECTION, Protection
from scf_batch.plan.snapshot import Org, Snapshot
from scf_batch.plan.steps import PlanState, Step

# what the job's reader yields for each row
Item = Operation | RowError | FieldDefinition | FieldOrder
ORDER_ACTION = "order"
PRUNE_LINE = 0  # a prune row's line: it comes from no line of the file (plan/prune.py)
SHOWN_PROBLEMS = 50
SHOWN_STEPS = 50


@dataclass(frozen=True, slots=True)
class Prepared:
    """One row after the pass: an invalid row's error, or its operation, resolved and planned."""

    row: int
    line: int
    key: str | None
    op: Operation | None = None
    resolved: ResolvedOperation | None = None
    error: RowError | None = None
    step: Step | None = None
    definition: FieldDefinition | None = None
    field_plan: PlannedField | None = None
    order: FieldOrder | None = None
    order_target: Target | None = None  # the order row's object, resolved
    order_step: OrderStep | None = None  # planned once its schema is read (plan only)
    # a row whose names no longer resolve, in a pass that repairs: it ends failed, not_found
    unresolved: RowError | None = None

    @property
    def chain(self) -> tuple[str, str] | None:
        """The rows that must run one at a time, in input order: those of one pair, and the
        order rows of one object."""
        if self.resolved is not None:
            return self.resolved.pair
        if self.order_target is not None:
            return (ORDER_ACTION, self.order_target.path)
        return None


def prepare(
    items: Iterable[Item],
    snapshot: Snapshot | None,
    *,
    where: str,
    defines_where: str | None = None,
    baseline: Snapshot | None = None,
    project: bool = True,
    plan: bool = True,
    repairing: bool = False,
    protection: Protection = NO_PROTECTION,
) -> Iterator[Prepared]:
    """Each row of the job, checked, and with a snapshot resolved against it and planned; a
    problem names the file of its row: `where` (association rows), `defines_where` (field
    definitions and orders, when a spec keeps them in a file of their own).

    Plans start from `baseline`'s associations (default: the snapshot's own): a resumed pass
    plans against the state its first run saw, to label what that run changed. Field
    definitions are planned against the snapshot; with `project`, rows after a definition that
    creates a field resolve as if it existed (fieldplan.py). Without `plan` rows are resolved
    but not planned (a run plans each row as it carries it out; only a resumed pass needs the
    first snapshot's steps, for labels). With `repairing` (a pass after a finished one), a row
    whose names no longer resolve is `unresolved` rather than invalid: what it names was deleted
    in Close since, where in a first pass it is a typo. A disassociate of a pair `protection`
    covers, and a deletion of a field it guards, is planned to fail `protected`.
    """
    plans = PlanState(baseline or snapshot) if snapshot is not None and plan else None
    fields = None
    if snapshot is not None:
        fields = FieldPlanner(snapshot, project=project, protected=protection.guards_field)
    defined_in = where if defines_where is None else defines_where
    for item in items:
        if isinstance(item, RowError):
            yield Prepared(item.row, item.line, item.key, error=item)
            continue
        if isinstance(item, FieldDefinition):
            yield _defined(item, fields, defined_in)
            continue
        if isinstance(item, FieldOrder):
            yield _ordered(item, snapshot, defined_in)
            continue
        if fields is None:
            yield Prepared(item.row, item.line, item.key, op=item)
            continue
        resolved = fields.snapshot.resolve(item, where)
        if isinstance(resolved, tuple):
            error = RowError(item.row, item.line, resolved, item.key)
            if repairing or item.line == PRUNE_LINE:  # a pruned pair's field gone meanwhile
                yield Prepared(item.row, item.line, item.key, op=item, unresolved=error)
            else:
                yield Prepared(item.row, item.line, item.key, op=item, error=error)
            continue
        step = None
        if plans is not None:
            step = plans.plan(resolved, protected=protection.covers(resolved, fields.snapshot))
        yield Prepared(item.row, item.line, item.key, op=item, resolved=resolved, step=step)


def _defined(definition: FieldDefinition, fields: FieldPlanner | None, where: str) -> Prepared:
    row, line, key = definition.row, definition.line, definition.key
    if fields is None:
        return Prepared(row, line, key, definition=definition)
    planned = fields.plan(definition, where)
    error = RowError(row, line, planned.problems, key) if planned.problems else None
    return Prepared(row, line, key, error=error, definition=definition, field_plan=planned)


def _ordered(order: FieldOrder, snapshot: Snapshot | None, where: str) -> Prepared:
    row, line, key = order.row, order.line, order.key
    if snapshot is None:
        return Prepared(row, line, key, order=order)
    target = resolve_order(order, snapshot, where)
    if isinstance(target, tuple):
        return Prepared(row, line, key, error=RowError(row, line, target, key), order=order)
    return Prepared(row, line, key, order=order, order_target=target)


@dataclass(slots=True)
class Report:
    """What one preparation pass found: problems (the first `shown`), counts, and the plan."""

    path: str
    shown: int = SHOWN_PROBLEMS
    rows: int = 0
    invalid_rows: int = 0
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    by_action: Counter[str] = field(default_factory=Counter)
    by_object_type: Counter[str] = field(default_factory=Counter)
    by_step: Counter[str] = field(default_factory=Counter)
    deletes: list[Prepared] = field(default_factory=list)
    unresolved_rows: int = 0  # rows whose names no longer resolve (a pass that repairs)
    # the definition rows still to run, in input order: few (an org's fields), so kept for the
    # run, which runs them before the association rows that name their fields
    definitions: list[Prepared] = field(default_factory=list)
    # the order rows still to run, in input order: one per object at most, kept for the run,
    # which brings the orders in line after every other row
    orders: list[Prepared] = field(default_factory=list)
    online: bool = False
    org: Org | None = None
    # what the org's names say of the job spec's names: protect or prune scope entries naming
    # a field or type the org does not have (yet); shown, never a problem
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the plan's summary adds (prune's)
    lacking: Lacking = field(default_factory=Lacking)

    @property
    def ok(self) -> bool:
        """No problem found."""
        return self.problem_count == 0

    @property
    def delete_count(self) -> int:
        return self.by_step[StepKind.DELETE.value]

    @property
    def changes(self) -> int:
        """How many rows the plan would write for."""
        return sum(self.by_step[kind.value] for kind in StepKind if kind.writes)

    def count_order(self, prepared: Prepared) -> None:
        """Tally an order row's step, planned once its object's schema was read."""
        if prepared.order_step is not None:
            self.by_step[prepared.order_step.kind.value] += 1

    def refuse_empty(self) -> None:
        """A clean pass over no row is a problem: an empty export must not look like success."""
        if self.rows == 0 and self.ok:
            found = "no rows (an empty file, or a header only)"
            expected = "at least one row, or --allow-empty (allow_empty = true) for an empty job"
            self.add_problems((Problem(self.path, 1, "rows", found, expected),))

    def add_problems(self, problems: tuple[Problem, ...]) -> None:
        """Count problems; keep the first `shown` of them."""
        self.problem_count += len(problems)
        room = self.shown - len(self.problems)
        if room > 0:
            self.problems.extend(problems[:room])

    def count(self, prepared: Prepared) -> None:
        """Tally one row."""
        self.rows += 1
        if prepared.error is not None:
            self.invalid_rows += 1
            self.add_problems(prepared.error.problems)
            return
        if prepared.op is not None:
            self.by_action[prepared.op.action.value] += 1
            self.by_object_type[prepared.op.object_type.value] += 1
        if prepared.unresolved is not None:
            self.unresolved_rows += 1
            self.by_step[StepKind.FAIL.value] += 1
        if prepared.definition is not None:
            self.by_action["define field"] += 1
        if prepared.order is not None:
            self.by_action[ORDER_ACTION] += 1
            if prepared.order_target is not None:
                self.orders.append(prepared)
        if prepared.field_plan is not None and prepared.field_plan.step is not None:
            self.definitions.append(prepared)
            self._count_step(prepared, prepared.field_plan.step.kind)
        if prepared.step is not None:
            self._count_step(prepared, prepared.step.kind)

    def _count_step(self, prepared: Prepared, kind: StepKind) -> None:
        """Tally a row's step; keep the first deletes (field or pair) to show."""
        self.by_step[kind.value] += 1
        if kind is StepKind.DELETE and len(self.deletes) < SHOWN_STEPS:
            self.deletes.append(prepared)


def survey(
    items: Iterable[Item],
    snapshot: Snapshot | None,
    *,
    where: str,
    defines_where: str | None = None,
    done: Container[int] = (),
    each: Callable[[Prepared], None] | None = None,
    repairing: bool = False,
    protection: Protection = NO_PROTECTION,
) -> Report:
    """Run the preparation pass over the job's rows to the end; rows in `done` are counted but
    not checked again. An unusable header met on the way is a problem.

    `where` and `defines_where` name the job's files as `prepare` takes them; `each` sees every
    prepared row that is not done (e.g. to print the plan as it goes); `repairing` and
    `protection` as `prepare` takes them.
    """
    shown = where if defines_where in (None, where) else f"{defines_where} + {where}"
    report = Report(shown, online=snapshot is not None)
    report.org = snapshot.org if snapshot is not None else None
    if snapshot is not None:
        report.warnings.extend(protection.warnings(snapshot))
    rows = prepare(
        items,
        snapshot,
        where=where,
        defines_where=defines_where,
        repairing=repairing,
        protection=protection,
    )
    try:
        for prepared in rows:
            if prepared.row in done:
                report.rows += 1
                continue
            report.count(prepared)
            if snapshot is not None:
                report.lacking.see(prepared, snapshot)
            if each is not None:
                each(prepared)
    except JobHeaderError as exc:
        report.add_problems(exc.problems)
    return report
