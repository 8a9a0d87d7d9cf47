"""Targeting's sections of the data subject's copy (tepat.privacy.export): the household's
welfare scores and deciles, and what moved its latest score."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from tepat.core.errors import NotFound
from tepat.core.subject_export import (
    DATETIME,
    MONEY,
    NUMBER,
    ExportSection,
    SubjectContext,
    col,
    iso,
    section,
)
from tepat.registry.subject_export import household_labels


def _scores_section(ctx: SubjectContext) -> dict[str, Any]:
    import math

    from tepat.targeting.selectors import household_scores

    rows = [
        {
            "scored_at": iso(s.run.finished_at or s.run.started_at),
            "model_version": s.run.model.version,
            "run": s.run.public_id,
            "score": round(float(s.score), 4),
            "consumption_estimate": int(round(math.exp(s.score), -2)),
            "desil_national": s.desil_national,
            "desil_regional": s.desil_regional,
        }
        for s in household_scores(household_id=ctx.household.pk)
    ]
    return section(
        _("Skor kesejahteraan (PMT) dan desil"),
        _(
            "Skor memperkirakan pengeluaran per orang per bulan dari kondisi rumah, aset dan "
            "anggota keluarga (proxy means test). Desil 1 adalah 10% keluarga termiskin, desil "
            "10 yang paling mampu. Program bantuan memakai desil untuk menentukan kelayakan."
        ),
        [
            col("scored_at", _("Dihitung pada"), DATETIME),
            col("model_version", _("Versi model"), NUMBER),
            col("run", _("Nomor skoring")),
            col("score", _("Skor (log pengeluaran)"), NUMBER),
            col("consumption_estimate", _("Perkiraan pengeluaran per orang per bulan"), MONEY),
            col("desil_national", _("Desil nasional"), NUMBER),
            col("desil_regional", _("Desil wilayah"), NUMBER),
        ],
        rows,
    )


def _proxy_labels() -> dict[str, str]:
    """The PMT's household features (tepat.targeting.features) that are not registry fields."""
    return {
        "head_sex": _("Jenis kelamin kepala keluarga"),
        "head_education": _("Pendidikan kepala keluarga"),
        "head_work_sector": _("Pekerjaan kepala keluarga"),
        "head_age": _("Umur kepala keluarga"),
        "n_under5": _("Jumlah balita"),
        "n_elderly": _("Jumlah lanjut usia"),
        "n_working": _("Jumlah anggota yang bekerja"),
        "children_in_school": _("Anak yang bersekolah"),
        "children_sd": _("Anak di SD"),
        "children_smp": _("Anak di SMP"),
        "children_sma": _("Anak di SMA"),
        "n_disabled": _("Jumlah penyandang disabilitas"),
        "n_severe_disability": _("Jumlah disabilitas berat"),
        "n_pregnant": _("Jumlah ibu hamil"),
    }


def _explanation_section(ctx: SubjectContext) -> dict[str, Any]:
    from tepat.registry import choices as c
    from tepat.registry.cleaning import HOUSEHOLD_CHOICE_FIELDS
    from tepat.targeting.selectors import household_score_explain

    labels = {**household_labels(), **_proxy_labels()}
    coded: dict[str, type[models.TextChoices]] = {
        **HOUSEHOLD_CHOICE_FIELDS, "head_sex": c.Sex, "head_education": c.Education,
        "head_work_sector": c.WorkSector,
    }  # fmt: skip
    rows: list[dict[str, Any]] = []
    description = _(
        "Kondisi yang paling menggerakkan skor terakhir keluarga Anda, dibanding rata-rata: "
        "negatif berarti keluarga tampak lebih miskin, positif tampak lebih mampu. Jika ada "
        "nilai yang tidak sesuai kenyataan, ajukan pengaduan agar diperiksa."
    )
    try:
        ex = household_score_explain(household=ctx.household, top=10)
    except NotFound:
        ex = None
    if ex is not None:
        description += " " + _("Model PMT versi %(v)s, skoring %(run)s.") % {
            "v": ex.model_version,
            "run": ex.run_public_id,
        }
        for e in ex.effects:
            base = e.proxy.split("=", 1)[0]
            choices = coded.get(base)
            value = str(dict(choices.choices).get(e.value, e.value)) if choices else e.value
            rows.append(
                {
                    "proxy": e.proxy,
                    "label": labels.get(base, base.replace("_", " ")),
                    "value": value,
                    "effect_percent": e.percent,
                    "direction": _("tampak lebih miskin")
                    if e.effect < 0
                    else _("tampak lebih mampu"),
                }
            )
    return section(
        _("Penjelasan skor terakhir"),
        description,
        [
            col("label", _("Kondisi")),
            col("value", _("Nilai tercatat")),
            col("effect_percent", _("Pengaruh (%)"), NUMBER),
            col("direction", _("Arah")),
        ],
        rows,
    )


SECTIONS = (
    ExportSection("scores", 80, _scores_section),
    ExportSection("score_explanation", 90, _explanation_section),
)
