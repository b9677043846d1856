"""How a field definition reads in a plan, before the association lines that need it. Pure.

+ field "Renewal Risk" (choices: Low, Medium, High)
+ field "Parent Contract" (custom_object → "Contract")
~ field "Industry": choices [SaaS, Retail] → [SaaS, Retail, Finance]
~ field "Plan": description … ; keeps choices the definition lacks: Legacy
! line 3: field "Seats": the org's field is of type text, ...
"""

from __future__ import annotations

from typing import Any

from scf_batch.models import StepKind
from scf_batch.plan.fields import PlannedField
from scf_batch.plan.steps import describe_changes

SIGNS = {
    StepKind.CREATE: "+",
    StepKind.UPDATE: "~",
    StepKind.NOTHING: "=",
    StepKind.FAIL: "!",
}


def field_line(planned: PlannedField, *, everything: bool = False) -> str | None:
    """The definition's plan line; None when it changes nothing and keeps nothing (unless
    `everything`)."""
    step, definition = planned.step, planned.definition
    if step is None:
        return None
    name = f'field "{definition.name}"'
    kept = ""
    if step.kept_choices:
        kept = "; keeps choices the definition lacks: " + ", ".join(step.kept_choices)
    if step.kind is StepKind.CREATE:
        return f"+ {name} ({describe_new(planned)})"
    if step.kind is StepKind.UPDATE:
        return f"~ {name}: {describe_changes(step.changes)}{kept}"
    if step.kind is StepKind.FAIL:
        return f"! line {definition.line}: {name}: {step.reason}"
    if kept or everything:
        return f"= {name}: unchanged{kept}"
    return None


def describe_new(planned: PlannedField) -> str:
    """`choices: Low, Medium, High`, `custom_object → "Contract"`, `user, multiple`."""
    definition = planned.definition
    parts = [definition.type]
    if definition.choices is not None:
        parts = ["choices: " + ", ".join(definition.choices)]
    if definition.referenced_type is not None:
        parts = [f'{definition.type} → "{definition.referenced_type}"']
    if definition.accepts_multiple_values:
        parts.append("multiple")
    return ", ".join(parts)


def field_record(planned: PlannedField) -> dict[str, Any]:
    """The definition's step as a JSON object (`plan --format json`)."""
    step, definition = planned.step, planned.definition
    record: dict[str, Any] = {"action": "define field", "scf_name": definition.name}
    if step is None:
        return record
    resolved = planned.resolved
    record.update(
        step=step.kind.value,
        outcome=step.outcome.value,
        scf_id=resolved.scf_id if resolved is not None else None,
        changes=[{"setting": n, "from": old, "to": new} for n, old, new in step.changes],
        kept_choices=list(step.kept_choices),
        body=step.body or None,
        reason=step.reason,
    )
    return record
