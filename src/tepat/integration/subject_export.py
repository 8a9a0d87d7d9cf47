"""Integration's sections of the data subject's copy (tepat.privacy.export): the other agencies'
records matched to the subject, and the flags matching raised on the household."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tepat.core.subject_export import DATE, ExportSection, SubjectContext, col, iso, section


def _sources_section(ctx: SubjectContext) -> dict[str, Any]:
    from tepat.integration.selectors import person_source_records

    rows = []
    for rec in person_source_records(person_id=ctx.person.pk):
        held = [
            name
            for name in ("full_name", "sex", "birth_date", "birth_place", "village_code",
                         "address", "rt", "rw", "deceased_on", "age")
            if getattr(rec, name) not in ("", None)
        ]  # fmt: skip
        if rec.nik_enc:
            held.insert(0, "nik")
        if rec.kk_enc:
            held.insert(1 if rec.nik_enc else 0, "kk")
        attrs = "; ".join(f"{k}={v}" for k, v in sorted((rec.attrs or {}).items()))
        rows.append(
            {
                "source": rec.source.name or rec.source.key,
                "record_id": rec.record_id,
                "delivered_on": iso(rec.run.delivered_on),
                "file_name": rec.run.file_name,
                "fields": ", ".join(held),
                "attributes": attrs,
            }
        )
    return section(
        _("Data dari instansi lain"),
        _(
            "Catatan instansi (misalnya Dukcapil, BPJS, PLN) yang dicocokkan dengan data Anda: "
            "dari mana, kapan dikirim, dan kolom apa saja yang diterima."
        ),
        [
            col("source", _("Sumber")),
            col("record_id", _("Nomor catatan di sumber")),
            col("delivered_on", _("Tanggal kiriman"), DATE),
            col("file_name", _("Berkas")),
            col("fields", _("Data yang diterima")),
            col("attributes", _("Atribut lain")),
        ],
        rows,
    )


FLAG_LABELS = {
    "deceased": gettext_lazy("Tercatat meninggal"),
    "duplicate": gettext_lazy("Identitas ganda"),
    "civil_servant": gettext_lazy("Tercatat sebagai ASN/pegawai"),
    "high_electricity": gettext_lazy("Daya listrik tinggi"),
    "moved": gettext_lazy("Tercatat pindah"),
    "nik_not_found": gettext_lazy("NIK tidak ditemukan di Dukcapil"),
}


def _flags_section(ctx: SubjectContext) -> dict[str, Any]:
    from tepat.integration.selectors import flags_for_household_detail

    rows = []
    for flag in flags_for_household_detail(ctx.household.pk):
        mine = flag.person_id == ctx.person.pk
        rows.append(
            {
                "kind": str(FLAG_LABELS.get(flag.kind, flag.kind)),
                "person": ctx.who(flag.person.public_id),
                "source": flag.source,
                "as_of": iso(flag.as_of),
                "detail": flag.detail if mine else "",
            }
        )
    return section(
        _("Tanda dari pencocokan data"),
        _(
            "Tanda yang dipasang saat data instansi dicocokkan dengan registri; tanda ini dapat "
            "memengaruhi kelayakan keluarga untuk bantuan."
        ),
        [
            col("kind", _("Tanda")),
            col("person", _("Tentang")),
            col("source", _("Sumber")),
            col("as_of", _("Per tanggal"), DATE),
            col("detail", _("Keterangan")),
        ],
        rows,
    )


SECTIONS = (
    ExportSection("sources", 50, _sources_section),
    ExportSection("flags", 60, _flags_section),
)
