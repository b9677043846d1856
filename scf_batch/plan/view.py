"""How a plan reads: one line per row that would change, like `terraform plan`. Pure.

    + associate "Industry" → lead (required, roles: admin)
    ~ update "Industry" → contact: required false → true
    - disassociate "Lost Reason" → opportunity   DELETES every value stored in it
    - disassociate "Legacy Field" → lead (not in the job)   DELETES every value stored in it
    + associate "Tier" → lead (not required)   [irreversible: the values the pass deleted are gone]
    ! line 12: update "Region" → lead: not associated, so there is nothing to update
    ~ order lead: "Industry" before "Account Owner", "Region" before "Health Score"

Rows with nothing to do are counted (listed with `=` under `--all`); `plan_json_line` gives the
same as one JSON object per row for `--format json`.
"""

from __future__ import annotations

import json
from typing import Any

from scf_batch.models import Change, ResolvedOperation, StepKind
from scf_batch.plan.fieldview import field_line, field_record, undo_tail
from scf_batch.plan.prepare import PRUNE_LINE, Prepared, Report
from scf_batch.plan.snapshot import PLACEHOLDER_PREFIX, Snapshot
from scf_batch.plan.steps import describe_changes
from scf_batch.text import quoted

SHOWN_ORDER_CHANGES = 3
SIGNS = {
    StepKind.CREATE: "+",
    StepKind.UPDATE: "~",
    StepKind.DELETE: "-",
    StepKind.NOTHING: "=",
    StepKind.FAIL: "!",
}
NOT_IN_THE_JOB = "(not in the job)"
DELETE_WARNING = "DELETES every value stored in this field on this object type"


def names(rop: ResolvedOperation, snapshot: Snapshot) -> tuple[str, str]:
    """The field's and the target's names as the plan shows them."""
    field = quoted(field_name(rop.scf_id, snapshot))
    if rop.scf_id.startswith(PLACEHOLDER_PREFIX):
        field += " (new)"
    target = rop.target.object_type.value
    type_name = snapshot.target_name(rop.target)
    if rop.target.type_id is not None:
        target = f"{target} {quoted(type_name)}" if type_name else rop.target.path
    return field, target


def field_name(scf_id: str, snapshot: Snapshot) -> str:
    """The field's name; a field the job creates first goes by its name, not its placeholder."""
    return snapshot.field_name(scf_id) or scf_id.removeprefix(PLACEHOLDER_PREFIX)


def plan_line(prepared: Prepared, snapshot: Snapshot, *, everything: bool = False) -> str | None:
    """The row's line, or None for a row with nothing to do (unless `everything`)."""
    if prepared.field_plan is not None and prepared.error is None:
        return field_line(prepared.field_plan, everything=everything)
    if prepared.error is not None:
        problems = "; ".join(p.detail() for p in prepared.error.problems)
        return f"! line {prepared.line}: invalid: {problems}"
    if prepared.order is not None:
        return order_line(prepared, everything=everything)
    step, rop = prepared.step, prepared.resolved
    if step is None or rop is None or (step.kind is StepKind.NOTHING and not everything):
        return None
    field, target = names(rop, snapshot)
    head = f"{SIGNS[step.kind]} {rop.op.action.value} {field} → {target}"
    if rop.op.line == PRUNE_LINE:  # a prune row: no row of the job names the pair
        head += f" {NOT_IN_THE_JOB}"
    if step.kind is StepKind.FAIL:
        return f"{SIGNS[step.kind]} line {prepared.line}: {head[2:]}: {step.reason}"
    tails = {
        StepKind.CREATE: lambda: f" ({_settings(step.body, snapshot)})",
        StepKind.UPDATE: lambda: f": {describe_changes(_named(step.changes, snapshot))}",
        StepKind.DELETE: lambda: f"   {DELETE_WARNING}",
    }
    tail = tails.get(step.kind)
    line = head + (tail() if tail is not None else f": {step.outcome.value}")
    return line + undo_tail(rop.op.undo)


def order_line(prepared: Prepared, *, everything: bool = False) -> str | None:
    """`~ order lead: "Industry" before "Account Owner" …`: the neighbouring shared fields the
    object shows the other way round (the first few), or None when the order holds."""
    step, order = prepared.order_step, prepared.order
    if order is None or step is None or (step.kind is StepKind.NOTHING and not everything):
        return None
    head = f"{SIGNS[step.kind]} order {order.label}"
    if step.kind is StepKind.NOTHING:
        return f"{head}: as wanted"
    shown = ", ".join(step.differences[:SHOWN_ORDER_CHANGES])
    more = " …" if len(step.differences) > SHOWN_ORDER_CHANGES else ""
    return f"{head}: {shown}{more}"


def _settings(body: dict[str, Any], snapshot: Snapshot) -> str:
    parts = ["required" if body.get("required") else "not required"]
    roles = body.get("editable_with_roles")
    if roles is not None:
        parts.append("roles: " + (", ".join(role_names(roles, snapshot)) or "none"))
    return ", ".join(parts)


def role_names(roles: list[str], snapshot: Snapshot) -> list[str]:
    """Role ids as the org names them; built-in slugs as they are."""
    return sorted(snapshot.role_name(role) for role in roles)


def _named(changes: tuple[Change, ...], snapshot: Snapshot) -> tuple[Change, ...]:
    """Changes with role ids shown by their names."""
    return tuple(
        (name, role_names(old, snapshot), role_names(new, snapshot))
        if name == "editable_with_roles"
        else (name, old, new)
        for name, old, new in changes
    )


def plan_summary(report: Report) -> str:
    """`plan: 30 to create, 5 to update, 2 to delete, 7 unchanged, 1 failing, 0 invalid`."""
    counts = report.by_step
    org = f" on {report.org}" if report.org is not None else ""
    text = (
        f"plan{org}: {counts['create']} to create, {counts['update']} to update, "
        f"{counts['delete']} to delete, {counts['nothing']} with nothing to do, "
        f"{counts['fail']} failing, {report.invalid_rows} invalid"
    )
    if counts["delete"]:
        text += f"\nplan: the {counts['delete']} delete(s) need --allow-delete to run"
    if report.lacking:
        text += "\n" + report.lacking.render()
    for note in report.notes:
        text += f"\nplan: {note}"
    for warning in report.warnings:
        text += f"\nwarning: {warning}"
    return text


def plan_record(prepared: Prepared, snapshot: Snapshot) -> dict[str, Any]:
    """The row's step as a JSON object."""
    record: dict[str, Any] = {"row": prepared.row, "line": prepared.line, "key": prepared.key}
    if prepared.error is not None:
        record.update(step="invalid", problems=[str(p) for p in prepared.error.problems])
        return record
    if prepared.field_plan is not None:
        record.update(field_record(prepared.field_plan))
        return record
    if prepared.order is not None and prepared.order_step is not None:
        target = prepared.order_target
        record.update(
            action="order",
            step=prepared.order_step.kind.value,
            target=target.path if target is not None else None,
            target_name=prepared.order.type_name,
            fields=list(prepared.order.fields),
            changes=list(prepared.order_step.differences),
        )
        return record
    step, rop = prepared.step, prepared.resolved
    if step is None or rop is None:
        return record
    record.update(
        action=rop.op.action.value,
        step=step.kind.value,
        outcome=step.outcome.value,
        scf_id=rop.scf_id,
        scf_name=field_name(rop.scf_id, snapshot),
        target=rop.target.path,
        target_name=snapshot.target_name(rop.target),
        changes=[{"setting": n, "from": old, "to": new} for n, old, new in step.changes],
        body=step.body or None,
        reason=step.reason,
        not_in_the_job=rop.op.line == PRUNE_LINE,
    )
    if rop.op.undo is not None:
        record["undo"] = rop.op.undo.value
    return record


def plan_json_line(prepared: Prepared, snapshot: Snapshot) -> str:
    return json.dumps(plan_record(prepared, snapshot))


def counts_record(report: Report) -> dict[str, Any]:
    return {
        "org": None if report.org is None else {"id": report.org.id, "name": report.org.name},
        "rows": report.rows,
        "invalid": report.invalid_rows,
        "by_step": {kind.value: report.by_step[kind.value] for kind in StepKind},
        "changes": report.changes,
        "warnings": report.warnings,
        "notes": report.notes,
    }
