"""The registry's stored codes in words, for pages: a history row's entity, action, fields and
values, and an "as of" member's relationship and sex.

Snapshots keep codes (``head``, ``financial_address``, ``M``) so they compare across languages
and releases; pages show what the codes mean, in the active language. Field names and the codes
that are no model choice come from core.labels; coded values from the registry's own choices.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models

from tepat.core import labels
from tepat.registry import choices as c
from tepat.registry.cleaning import HOUSEHOLD_CHOICE_FIELDS, PERSON_CHOICE_FIELDS

CHOICE_FIELDS: Mapping[str, type[models.TextChoices]] = {
    **HOUSEHOLD_CHOICE_FIELDS,
    **PERSON_CHOICE_FIELDS,
    "kind": c.FinancialKind,
}
EMPTY = "–"


@dataclass(frozen=True)
class LabelledChange:
    field: str  # the code, kept for tests and data attributes
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class LabelledHistoryRow:
    at: Any
    entity_type: str
    entity_label: str
    action: str
    action_label: str
    source: str
    actor_label: str
    reason: str
    changes: list[LabelledChange]


def value_label(field: str, value: Any) -> str:
    """One snapshot value as people read it: a choice's label, ya/tidak, a dash for nothing."""
    if value is None:
        return EMPTY
    if isinstance(value, bool):
        return str(labels.YES_NO[value])
    choices = CHOICE_FIELDS.get(field)
    if choices is not None and value in choices.values:
        return str(choices(value).label)  # "" too, where it means something ("Tidak ada")
    return str(value) if value != "" else EMPTY


def field_label(field: str) -> str:
    return labels.label("history_field", field)


def history_labelled(rows: Iterable[Any]) -> list[LabelledHistoryRow]:
    """`selectors.household_history` rows with every code put in words."""
    return [
        LabelledHistoryRow(
            at=r.at,
            entity_type=r.entity_type,
            entity_label=labels.label("history_entity", r.entity_type),
            action=r.action,
            action_label=labels.label("history_action", r.action),
            source=r.source,
            actor_label=r.actor_label,
            reason=r.reason,
            changes=[
                LabelledChange(
                    field=name,
                    label=field_label(name),
                    before=value_label(name, before),
                    after=value_label(name, after),
                )
                for name, (before, after) in r.changes.items()
            ],
        )
        for r in rows
    ]


def member_labelled(member: Mapping[str, Any]) -> dict[str, Any]:
    """An "as of" member snapshot with its relationship and sex in words (keys `*_label`)."""
    out = dict(member)
    out["relationship_label"] = value_label("relationship", member.get("relationship"))
    out["sex_label"] = value_label("sex", member.get("sex"))
    return out
