"""Programmes' section of the data subject's copy (tepat.privacy.export): the household's
entitlements per programme and cycle."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from tepat.core.subject_export import (
    DATE,
    MONEY,
    NUMBER,
    ExportSection,
    SubjectContext,
    choice,
    col,
    iso,
    section,
)


def _component_label(code: str) -> str:
    """A PKH component (tepat.programs.calc.PKH_COMPONENTS) in words."""
    labels = {
        "pregnant": _("ibu hamil"),
        "child_0_6": _("anak usia dini"),
        "sd": _("anak SD"),
        "smp": _("anak SMP"),
        "sma": _("anak SMA"),
        "elderly": _("lanjut usia"),
        "severe_disability": _("disabilitas berat"),
    }
    return labels.get(code, code)


def _entitlements_section(ctx: SubjectContext) -> dict[str, Any]:
    from tepat.programs.selectors import household_entitlements

    rows = []
    for e in household_entitlements(household_id=ctx.household.pk):
        inputs = e.inputs or {}
        parts = sorted((inputs.get("c") or {}).items())
        components = ", ".join(f"{_component_label(k)}: {v}" for k, v in parts)
        rows.append(
            {
                "programme": e.cycle.programme.name,
                "cycle": e.cycle.code,
                "tahap": e.cycle.instalment,
                "period_start": iso(e.cycle.period_start),
                "period_end": iso(e.cycle.period_end),
                "amount": int(e.amount),
                "state": choice(e, "state"),
                "recipient": ctx.who(e.beneficiary_ref),
                "desil": inputs.get("desil"),
                "components": components,
                "rule": e.cycle.frozen_rule or e.cycle.programme.eligibility_rule,
                "reason": e.reason,
            }
        )
    return section(
        _("Program dan hak bantuan"),
        _(
            "Hak bantuan keluarga Anda per program dan tahap, dengan aturan kelayakan yang "
            "dipakai, desil, dan komponen yang menentukan nominal."
        ),
        [
            col("programme", _("Program")),
            col("cycle", _("Tahap (kode)")),
            col("tahap", _("Tahap ke"), NUMBER),
            col("period_start", _("Periode mulai"), DATE),
            col("period_end", _("Periode selesai"), DATE),
            col("amount", _("Nominal"), MONEY),
            col("state", _("Status")),
            col("recipient", _("Penerima")),
            col("desil", _("Desil yang dipakai"), NUMBER),
            col("components", _("Komponen")),
            col("rule", _("Aturan kelayakan")),
            col("reason", _("Keterangan")),
        ],
        rows,
    )


SECTIONS = (ExportSection("entitlements", 100, _entitlements_section),)
