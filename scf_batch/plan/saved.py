"""A saved plan from the preparation pass, and what makes one stale against a newer snapshot. Pure.

`PlanBuilder` sees each prepared row with the snapshot it was planned against (as `plan` prints
them) and keeps, by name: the steps `plan` shows, the state of every pair a row names (so that
re-planning an unchanged pair gives the same step) and of every field a definition names.
`stale` lists the pairs and fields whose state moved since; `step_differences` the steps that
differ (none, when nothing the plan touches moved: `run PLAN.json` refuses otherwise).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from scf_batch.job.planfile import PlannedJob, PlannedOrg, PlannedState, SavedPlan, SavedStep
from scf_batch.models import Association, Change, ResolvedOperation, StepKind
from scf_batch.plan.fields import FieldStep, fields_by_id
from scf_batch.plan.prepare import ORDER_ACTION, Prepared, Report
from scf_batch.plan.snapshot import Org, Pair, Snapshot
from scf_batch.plan.steps import Step
from scf_batch.plan.view import (
    counts_record,
    field_name,
    names,
    plan_line,
    plan_summary,
    role_names,
)

DEFINE_ACTION = "define field"
FIELD_KEYS = ("type", "description", "choices", "accepts_multiple_values")


class PlanBuilder:
    """Collects a plan as the preparation pass goes: a step per row that `plan` lists and a
    state per pair or field the job names (an org's configuration at most)."""

    def __init__(self) -> None:
        self._steps: list[SavedStep] = []
        self._pairs: dict[tuple[str, str], PlannedState] = {}
        self._fields: dict[str, PlannedState] = {}
        self._current: dict[Pair, Association | None] = {}

    def add(self, prepared: Prepared, snapshot: Snapshot) -> None:
        """One prepared row, planned against `snapshot` (the org before any row)."""
        if prepared.error is not None:
            return
        if prepared.field_plan is not None:
            self._see_field(prepared, snapshot)
        before: Association | None = None
        if prepared.resolved is not None:
            before = self._see_pair(prepared.resolved, snapshot)
        shown = plan_line(prepared, snapshot)
        if shown is None:
            return
        planned, order, rop, step = (
            prepared.field_plan,
            prepared.order_step,
            prepared.resolved,
            prepared.step,
        )
        if planned is not None and planned.step is not None:
            kind, detail = _field_step(planned.definition.name, planned.step)
            self._save(prepared, DEFINE_ACTION, kind, shown, detail)
        elif order is not None:
            label = prepared.order.label if prepared.order is not None else None
            detail = {"target": label, "changes": list(order.differences)}
            self._save(prepared, ORDER_ACTION, order.kind, shown, detail)
        elif rop is not None and step is not None:
            detail = self._pair_step(rop, step, before, snapshot)
            self._save(prepared, rop.op.action.value, step.kind, shown, detail)

    def _save(
        self, prepared: Prepared, action: str, kind: StepKind, shown: str, detail: dict[str, Any]
    ) -> None:
        self._steps.append(
            SavedStep(prepared.row, prepared.line, action, kind.value, shown, detail)
        )

    def build(
        self, report: Report, *, job: PlannedJob, base_url: str | None, created_at: str
    ) -> SavedPlan:
        """The plan, its lists sorted (steps in input order, states by name)."""
        org = report.org or Org("", "")
        return SavedPlan(
            created_at,
            job,
            PlannedOrg(org.id, org.name),
            base_url,
            tuple(sorted(self._steps, key=lambda step: step.row)),
            tuple(self._pairs[key] for key in sorted(self._pairs)),
            tuple(self._fields[key] for key in sorted(self._fields)),
            counts_record(report),
        )

    def _see_pair(self, rop: ResolvedOperation, snapshot: Snapshot) -> Association | None:
        """The pair's state before this row: the snapshot's, or what earlier rows left."""
        field, target = field_name(rop.scf_id, snapshot), names(rop, snapshot)[1]
        if (field, target) not in self._pairs:
            state = settings_of(snapshot.association(rop.pair), snapshot)
            self._pairs[(field, target)] = PlannedState(field, target, state)
        return self._current.get(rop.pair, snapshot.association(rop.pair))

    def _see_field(self, prepared: Prepared, snapshot: Snapshot) -> None:
        planned = prepared.field_plan
        if planned is None or planned.resolved is None:
            return
        name = planned.definition.name
        scf_id = planned.resolved.scf_id
        current = fields_by_id(snapshot).get(scf_id) if scf_id is not None else None
        self._fields[name] = PlannedState(name, None, field_state(current, snapshot))

    def _pair_step(
        self, rop: ResolvedOperation, step: Step, before: Association | None, snapshot: Snapshot
    ) -> dict[str, Any]:
        """The step by name: the pair, its settings before and after; the pair moves on."""
        after = step.after if step.kind.writes else before
        if step.kind.writes:
            self._current[rop.pair] = step.after
        return {
            "field": field_name(rop.scf_id, snapshot),
            "target": names(rop, snapshot)[1],
            "before": settings_of(before, snapshot),
            "after": settings_of(after, snapshot),
            "outcome": step.outcome.value,
        }


def _field_step(name: str, step: FieldStep) -> tuple[StepKind, dict[str, Any]]:
    """A definition's kind and detail: the field, its changes, the choices it keeps."""
    detail: dict[str, Any] = {
        "field": name,
        "changes": _changes(step.changes),
        "kept_choices": list(step.kept_choices),
        "outcome": step.outcome.value,
    }
    if step.kind is StepKind.CREATE:
        detail["body"] = dict(step.body)
    return step.kind, detail


def _changes(changes: tuple[Change, ...]) -> list[dict[str, Any]]:
    return [{"setting": name, "from": old, "to": new} for name, old, new in changes]


def settings_of(association: Association | None, snapshot: Snapshot) -> dict[str, Any] | None:
    """An association's settings by name (roles as the org names them); None: absent."""
    if association is None:
        return None
    roles = role_names(sorted(association.roles), snapshot)
    return {"required": association.required, "editable_with_roles": roles}


def field_state(current: Mapping[str, Any] | None, snapshot: Snapshot) -> dict[str, Any] | None:
    """What a definition is planned against of the org's field, by name; None: absent."""
    if current is None:
        return None
    state = {key: current.get(key) for key in FIELD_KEYS}
    referenced = current.get("referenced_custom_type_id")
    if isinstance(referenced, str):
        state["referenced_custom_type"] = snapshot.object_types.names.get(referenced) or referenced
    return state


def stale(saved: SavedPlan, fresh: SavedPlan) -> list[str]:
    """What moved since the plan: each pair or field it touches whose state is not the one it
    was planned from (`"Industry" → lead: planned from …, now …`). Other pairs do not count."""
    now = {(s.field, s.target): s for s in (*fresh.pairs, *fresh.fields)}
    moved = []
    for then in (*saved.pairs, *saved.fields):
        found = now.get((then.field, then.target))
        if found is None:
            moved.append(f"{then.label}: planned from {_state(then.state)}, now not found")
        elif found.state != then.state:
            moved.append(
                f"{then.label}: planned from {_state(then.state)}, now {_state(found.state)}"
            )
    return moved


def step_differences(saved: SavedPlan, fresh: SavedPlan) -> list[str]:
    """The steps planned now that are not the plan's (orders aside: those are planned against
    their object's schema when the run comes to them, as in any run)."""
    then = {step.row: step for step in saved.steps if step.action != ORDER_ACTION}
    now = {step.row: step for step in fresh.steps if step.action != ORDER_ACTION}
    differences = []
    for row in sorted(then.keys() | now.keys()):
        planned, found = then.get(row), now.get(row)
        if planned != found:
            line = next((s.line for s in (planned, found) if s is not None), row)
            differences.append(
                f"line {line}: the plan says {_shown(planned)}, planned now: {_shown(found)}"
            )
    return differences


def _shown(step: SavedStep | None) -> str:
    return "nothing to do" if step is None else f"`{step.shown}`"


def _state(state: Mapping[str, Any] | None) -> str:
    if state is None:
        return "absent"
    return ", ".join(f"{key} {_value(value)}" for key, value in sorted(state.items()))


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return "none" if value is None else str(value)


def shown_lines(saved: SavedPlan) -> list[str]:
    """What `plan` printed for the plan's steps, in input order."""
    return [step.shown for step in saved.steps]


def shown_summary(saved: SavedPlan) -> str:
    """The plan's count line(s), as `plan` printed them."""
    counts = saved.counts
    report = Report(saved.job.operations, rows=int(counts.get("rows", 0)))
    report.invalid_rows = int(counts.get("invalid", 0))
    report.by_step = Counter({k: int(v) for k, v in dict(counts.get("by_step", {})).items()})
    report.org = Org(saved.org.id, saved.org.name)
    return plan_summary(report)
