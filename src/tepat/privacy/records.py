"""The register as rows: the records of processing (UU 27/2022 Art. 31), the processor register
and the retention schedule, for the pages, the CSV and JSON exports and the privacy notice.

Every text comes from the declarations, in the active language.
"""

from __future__ import annotations

import io
import json
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tepat.core import csvsafe
from tepat.core.declarations import (
    ACTION_LABEL,
    LEGAL_BASIS_ARTICLE,
    LEGAL_BASIS_LABEL,
    SPECIFIC_ARTICLE,
    SPECIFIC_LABEL,
    SUBJECT_LABEL,
    Action,
    Retention,
)
from tepat.privacy.declarations import Register

PARTS = ("catatan", "pemroses", "retensi")  # records, processors, retention
FORMATS = ("csv", "json")


def keep_text(rule: Retention) -> str:
    """How long, in words: "30 hari", "2 tahun", "sampai berakhir"..."""
    n = rule.keep.days
    if rule.action == Action.KEEP:
        return _("tanpa batas otomatis")
    if rule.action == Action.EXPIRES:
        return _("paling lama %(n)s hari (cache)") % {"n": n}
    if n == 0:
        return _("sampai berakhir")
    if n % 366 == 0:
        years = n // 366
        return ngettext("%(n)s tahun", "%(n)s tahun", years) % {"n": years}
    return ngettext("%(n)s hari", "%(n)s hari", n) % {"n": n}


def rule_sentence(rule: Retention) -> str:
    """One line for the schedule and the notice: what, how long, what then."""
    if rule.action == Action.KEEP:
        return _("%(what)s: disimpan. %(why)s") % {"what": rule.label, "why": rule.reason}
    if rule.action == Action.EXPIRES:
        return _("%(what)s: %(how)s.") % {"what": rule.label, "how": keep_text(rule)}
    return _("%(what)s: %(action)s setelah %(how)s.") % {
        "what": rule.label,
        "action": ACTION_LABEL[rule.action],
        "how": keep_text(rule),
    }


def retention_rows(register: Register) -> list[dict[str, Any]]:
    return [
        {
            "key": r.key,
            "model": r.model,
            "label": str(r.label),
            "action": str(r.action),
            "action_label": str(ACTION_LABEL[r.action]),
            "keep_days": r.keep.days,
            "keep": keep_text(r),
            "counted_from": r.timestamp,
            "only": {k: _jsonable(v) for k, v in r.where.items()},
            "except": {k: _jsonable(v) for k, v in r.exclude.items()},
            "anonymised_fields": sorted(r.anonymise),
            "files": r.file_field,
            "reason": str(r.reason),
        }
        for r in register.retention
    ]


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list | set | frozenset):
        return [_jsonable(v) for v in value]
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def records_rows(register: Register) -> list[dict[str, Any]]:
    rows = []
    for act in register.activities:
        categories = [register.categories[k] for k in act.categories if k in register.categories]
        rules = register.rules_for(act.models)
        rows.append(
            {
                "key": act.key,
                "name": str(act.name),
                "purpose": str(act.purpose),
                "legal_basis": str(LEGAL_BASIS_LABEL[act.basis]),
                "legal_basis_article": LEGAL_BASIS_ARTICLE[act.basis],
                "basis_detail": str(act.basis_detail),
                "subjects": [str(SUBJECT_LABEL[s]) for s in act.subjects],
                "data_categories": [str(c.label) for c in categories],
                "specific_data": [
                    f"{SPECIFIC_LABEL[s]} ({SPECIFIC_ARTICLE[s]})"
                    for s in register.specific_of(act)
                ],
                "recipients": [
                    str(register.recipients[k].name)
                    for k in act.recipients
                    if k in register.recipients
                ],
                "tables": list(act.models),
                "retention": [rule_sentence(r) for r in rules],
                "automated_decision": str(act.automated),
                "sources": str(act.sources),
            }
        )
    return rows


def processor_rows(register: Register) -> list[dict[str, Any]]:
    rows = []
    for entry in register.recipients.values():
        for d in entry.deliveries:
            for f in d.receives:
                rows.append(
                    {
                        "recipient": entry.key,
                        "name": str(entry.name),
                        "role": entry.role,
                        "examples": str(entry.examples),
                        "purpose": str(d.purpose),
                        "channel": str(d.channel),
                        "field": f.name,
                        "meaning": str(f.meaning),
                        "declared_by": d.app,
                        "code": ", ".join(d.code),
                    }
                )
    return rows


ROWS = {"catatan": records_rows, "pemroses": processor_rows, "retensi": retention_rows}


def export(register: Register, *, part: str, fmt: str) -> tuple[bytes, str, str]:
    """(content, content type, file name) of one part of the register as CSV or JSON."""
    rows = ROWS[part](register)
    name = f"tepat-{part}.{fmt}"
    if fmt == "json":
        body = json.dumps(rows, ensure_ascii=False, indent=2).encode()
        return body, "application/json", name
    out = io.StringIO()
    if rows:
        writer = csvsafe.writer(out)
        header = list(rows[0])
        writer.writerow(header)
        for row in rows:
            writer.writerow([_cell(row[h]) for h in header])
    return out.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8", name


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False) if value else ""
    return "" if value is None else str(value)
