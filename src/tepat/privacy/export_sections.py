"""The sections of the data subject's copy (tepat.privacy.export): one function per kind of
data, each reading through the owning app's selectors and returning a section (title,
description, typed columns, rows). What each shows of whom is explained in export.py."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tepat.core.errors import NotFound
from tepat.registry.models import Person

# Column types: how a renderer shows a value (JSON keeps the value as it is).
TEXT, MONEY, DATE, DATETIME, BOOL, NUMBER, CHANGES = (
    "text", "money", "date", "datetime", "bool", "number", "changes",
)  # fmt: skip

# --- section primitives -----------------------------------------------------------------------


def iso(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value.isoformat()


def _col(key: str, title: str, kind: str = TEXT) -> dict[str, str]:
    return {"key": key, "title": title, "type": kind}


def _section(
    title: str,
    description: str,
    columns: list[dict[str, str]],
    rows: list[dict[str, Any]],
    *,
    layout: str = "table",
) -> dict[str, Any]:
    return {
        "title": title,
        "description": description,
        "layout": layout,  # "record": one row shown as label/value pairs
        "columns": columns,
        "rows": rows,
    }


def _person_labels() -> dict[str, str]:
    return {
        "public_id": _("Nomor rujukan Tepat"),
        "nik": _("NIK"),
        "full_name": _("Nama lengkap"),
        "sex": _("Jenis kelamin"),
        "birth_date": _("Tanggal lahir"),
        "birth_place": _("Tempat lahir"),
        "relationship": _("Hubungan dengan kepala keluarga"),
        "marital_status": _("Status kawin"),
        "education": _("Pendidikan tertinggi"),
        "school_level": _("Sedang bersekolah"),
        "work_sector": _("Pekerjaan"),
        "disability": _("Disabilitas"),
        "pregnant": _("Hamil"),
        "phone": _("Nomor HP"),
        "deceased_on": _("Meninggal pada"),
        "processing_restricted_at": _("Pemrosesan dibatasi sejak"),
        "created_at": _("Tercatat sejak"),
        "updated_at": _("Terakhir diubah"),
    }


def _household_labels() -> dict[str, str]:
    return {
        "public_id": _("Nomor rujukan Tepat"),
        "kk": _("Nomor KK"),
        "region": _("Wilayah"),
        "village_code": _("Kode desa/kelurahan"),
        "address": _("Alamat"),
        "rt": _("RT"),
        "rw": _("RW"),
        "floor_material": _("Lantai"),
        "wall_material": _("Dinding"),
        "roof_material": _("Atap"),
        "floor_area_m2": _("Luas lantai (m²)"),
        "drinking_water": _("Air minum"),
        "toilet": _("Jamban"),
        "electricity": _("Listrik"),
        "electricity_va": _("Daya listrik (VA)"),
        "cooking_fuel": _("Bahan bakar memasak"),
        "owns_motorcycle": _("Punya sepeda motor"),
        "owns_refrigerator": _("Punya kulkas"),
        "owns_car": _("Punya mobil"),
        "owns_land": _("Punya lahan"),
        "land_area_m2": _("Luas lahan (m²)"),
        "livestock_count": _("Jumlah ternak"),
        "household_size": _("Jumlah anggota keluarga"),
        "created_at": _("Tercatat sejak"),
        "updated_at": _("Terakhir diubah"),
    }


@dataclass
class Context:
    """What several sections share: the subject, their household and its members, payments and
    their log entries (read once)."""

    person: Person
    household: Any
    members: list[Any]  # registry.selectors.MemberView
    member_by_ref: dict[str, Any] = field(default_factory=dict)
    payments: list[Any] = field(default_factory=list)
    entries: dict[str, list[Any]] = field(default_factory=dict)

    @cached_property
    def identifiers(self) -> Any:
        """The subject's own NIK, KK, phone and account numbers in clear (decrypted once)."""
        from tepat.registry.selectors import subject_identifiers

        return subject_identifiers(person=self.person)

    @cached_property
    def member_refs(self) -> list[str]:
        return [m.person.public_id for m in self.members]

    @cached_property
    def complaints(self) -> list[Any]:
        from tepat.grievances.selectors import complaints_of_persons

        return list(complaints_of_persons(person_refs=self.member_refs))

    @cached_property
    def vouchers(self) -> list[Any]:
        from tepat.verification.selectors import vouchers_of_payments

        return list(vouchers_of_payments(payment_ids=[p.pk for p in self.payments]))

    @cached_property
    def sms(self) -> list[Any]:
        from tepat.payments.selectors import sms_of_payments

        return list(sms_of_payments(payment_ids=[p.pk for p in self.payments]))

    def who(self, ref: str) -> str:
        """How a person appears in the subject's copy: "Anda", or the relationship only."""
        if ref == self.person.public_id:
            return _("Anda")
        member = self.member_by_ref.get(ref)
        if member is None:
            return _("Bukan anggota keluarga saat ini") if ref else ""
        return str(member.person.get_relationship_display())


def _choice(instance: Any, name: str) -> str:
    value = getattr(instance, name)
    if value in ("", None):
        return ""
    return str(getattr(instance, f"get_{name}_display")())


def _subject_section(ctx: Context) -> dict[str, Any]:
    p = ctx.person
    ids = ctx.identifiers
    labels = _person_labels()
    kinds = {
        "birth_date": DATE,
        "deceased_on": DATE,
        "pregnant": BOOL,
        "processing_restricted_at": DATETIME,
        "created_at": DATETIME,
        "updated_at": DATETIME,
    }
    row: dict[str, Any] = {
        "public_id": p.public_id,
        "nik": ids.nik,
        "full_name": p.full_name,
        "sex": _choice(p, "sex"),
        "birth_date": iso(p.birth_date),
        "birth_place": p.birth_place,
        "relationship": _choice(p, "relationship"),
        "marital_status": _choice(p, "marital_status"),
        "education": _choice(p, "education"),
        "school_level": _choice(p, "school_level"),
        "work_sector": _choice(p, "work_sector"),
        "disability": _choice(p, "disability"),
        "pregnant": bool(p.pregnant),
        "phone": ids.phone,
        "deceased_on": iso(p.deceased_on),
        "processing_restricted_at": iso(p.processing_restricted_at),
        "created_at": iso(p.created_at),
        "updated_at": iso(p.updated_at),
    }
    return _section(
        _("Data diri Anda"),
        _("Data Anda di registri sosial, lengkap, termasuk NIK dan nomor HP."),
        [_col(k, labels[k], kinds.get(k, TEXT)) for k in row],
        [row],
        layout="record",
    )


def _household_section(ctx: Context) -> dict[str, Any]:
    from tepat.regions.selectors import region_ancestors
    from tepat.registry.cleaning import HOUSEHOLD_EDITABLE

    h = ctx.household
    labels = _household_labels()
    try:
        region = ", ".join(r.name for r in reversed(region_ancestors(h.village_id)))
    except NotFound:
        region = ""
    row: dict[str, Any] = {
        "public_id": h.public_id,
        "kk": ctx.identifiers.kk,
        "region": region,
        "village_code": h.village_id,
    }
    kinds: dict[str, str] = {"created_at": DATETIME, "updated_at": DATETIME}
    for name in HOUSEHOLD_EDITABLE:
        model_field = h._meta.get_field(name)
        if model_field.choices:
            row[name] = _choice(h, name)
        else:
            row[name] = getattr(h, name)
        if model_field.get_internal_type() == "BooleanField":
            kinds[name] = BOOL
        elif model_field.get_internal_type().endswith("IntegerField"):
            kinds[name] = NUMBER
    row["household_size"] = sum(1 for m in ctx.members if m.person.deceased_on is None)
    kinds["household_size"] = NUMBER
    row["created_at"] = iso(h.created_at)
    row["updated_at"] = iso(h.updated_at)
    return _section(
        _("Data keluarga (Kartu Keluarga) dan rumah"),
        _(
            "Data rumah tangga Anda: alamat, kondisi rumah dan aset. Data ini dipakai untuk "
            "menghitung skor kesejahteraan keluarga."
        ),
        [_col(k, labels.get(k, k), kinds.get(k, TEXT)) for k in row],
        [row],
        layout="record",
    )


def _members_section(ctx: Context) -> dict[str, Any]:
    rows = []
    for m in ctx.members:
        p = m.person
        rows.append(
            {
                "full_name": p.full_name,
                "relationship": _choice(p, "relationship"),
                "age": m.age,
                "deceased": p.deceased_on is not None,
                "is_you": p.pk == ctx.person.pk,
            }
        )
    return _section(
        _("Anggota keluarga"),
        _(
            "Anggota keluarga dalam KK Anda. Data lain tentang anggota keluarga (NIK, tanggal "
            "lahir, kesehatan, sekolah, rekening) adalah data pribadi mereka sendiri dan tidak "
            "ditampilkan di sini."
        ),
        [
            _col("full_name", _("Nama")),
            _col("relationship", _("Hubungan")),
            _col("age", _("Umur (tahun)"), NUMBER),
            _col("deceased", _("Meninggal"), BOOL),
            _col("is_you", _("Anda"), BOOL),
        ],
        rows,
    )


def _financial_section(ctx: Context) -> dict[str, Any]:
    from tepat.registry.selectors import financial_addresses_of

    accounts = ctx.identifiers.accounts
    rows = [
        {
            "kind": _choice(fa, "kind"),
            "provider": fa.provider,
            "account": accounts.get(fa.public_id, ""),
            "holder_name": fa.holder_name,
            "valid_from": iso(fa.valid_from),
            "valid_to": iso(fa.valid_to),
            "source": fa.source,
        }
        for fa in financial_addresses_of(person=ctx.person)
    ]
    return _section(
        _("Rekening dan alamat pembayaran Anda"),
        _("Rekening bank atau dompet elektronik atas nama Anda, yang sekarang dan yang lama."),
        [
            _col("kind", _("Jenis")),
            _col("provider", _("Penyedia")),
            _col("account", _("Nomor rekening")),
            _col("holder_name", _("Nama pemilik")),
            _col("valid_from", _("Berlaku sejak"), DATETIME),
            _col("valid_to", _("Berlaku sampai"), DATETIME),
            _col("source", _("Sumber")),
        ],
        rows,
    )


def _sources_section(ctx: Context) -> dict[str, Any]:
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
    return _section(
        _("Data dari instansi lain"),
        _(
            "Catatan instansi (misalnya Dukcapil, BPJS, PLN) yang dicocokkan dengan data Anda: "
            "dari mana, kapan dikirim, dan kolom apa saja yang diterima."
        ),
        [
            _col("source", _("Sumber")),
            _col("record_id", _("Nomor catatan di sumber")),
            _col("delivered_on", _("Tanggal kiriman"), DATE),
            _col("file_name", _("Berkas")),
            _col("fields", _("Data yang diterima")),
            _col("attributes", _("Atribut lain")),
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


def _flags_section(ctx: Context) -> dict[str, Any]:
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
    return _section(
        _("Tanda dari pencocokan data"),
        _(
            "Tanda yang dipasang saat data instansi dicocokkan dengan registri; tanda ini dapat "
            "memengaruhi kelayakan keluarga untuk bantuan."
        ),
        [
            _col("kind", _("Tanda")),
            _col("person", _("Tentang")),
            _col("source", _("Sumber")),
            _col("as_of", _("Per tanggal"), DATE),
            _col("detail", _("Keterangan")),
        ],
        rows,
    )


def _history_section(ctx: Context) -> dict[str, Any]:
    from tepat.registry.selectors import financial_addresses_of, household_history

    labels = {**_household_labels(), **_person_labels()}
    labels.update(nik_masked=_("NIK"), kk_masked=_("Nomor KK"), phone_masked=_("Nomor HP"))
    mine = {ctx.person.public_id, ctx.household.public_id}
    mine |= {fa.public_id for fa in financial_addresses_of(person=ctx.person)}
    entity_labels = {
        "household": _("Rumah tangga"),
        "person": _("Orang"),
        "financial_address": _("Rekening"),
    }
    action_labels = {
        "create": _("Dicatat"),
        "update": _("Diubah"),
        "move": _("Pindah"),
        "close": _("Ditutup"),
    }
    rows = []
    for r in household_history(household=ctx.household, limit=100_000):
        own = r.entity_id in mine
        if r.entity_type == "person":
            about = ctx.who(r.entity_id)
        elif r.entity_type == "financial_address":
            about = _("Rekening Anda") if own else _("Rekening anggota keluarga")
        else:
            about = entity_labels.get(r.entity_type, r.entity_type)
        changes: list[dict[str, Any]] = []
        if r.action != "create":
            for name, (before, after) in r.changes.items():
                if name.endswith("_index"):
                    continue  # blind indexes: keyed hashes, meaningless to a person
                item: dict[str, Any] = {"field": name, "label": labels.get(name, name)}
                if own:
                    item.update(before=before, after=after)
                changes.append(item)
        rows.append(
            {
                "at": iso(r.at),
                "about": about,
                "action": action_labels.get(r.action, r.action),
                "source": r.source,
                "reason": r.reason,
                "changes": changes,
            }
        )
    return _section(
        _("Riwayat perubahan data"),
        _(
            "Setiap perubahan data Anda dan keluarga: kapan, dari sumber apa, dan apa yang "
            "berubah. Untuk anggota keluarga lain hanya nama kolom yang berubah ditampilkan."
        ),
        [
            _col("at", _("Waktu"), DATETIME),
            _col("about", _("Tentang")),
            _col("action", _("Tindakan")),
            _col("source", _("Sumber")),
            _col("reason", _("Alasan")),
            _col("changes", _("Perubahan"), CHANGES),
        ],
        rows,
    )


def _scores_section(ctx: Context) -> dict[str, Any]:
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
    return _section(
        _("Skor kesejahteraan (PMT) dan desil"),
        _(
            "Skor memperkirakan pengeluaran per orang per bulan dari kondisi rumah, aset dan "
            "anggota keluarga (proxy means test). Desil 1 adalah 10% keluarga termiskin, desil "
            "10 yang paling mampu. Program bantuan memakai desil untuk menentukan kelayakan."
        ),
        [
            _col("scored_at", _("Dihitung pada"), DATETIME),
            _col("model_version", _("Versi model"), NUMBER),
            _col("run", _("Nomor skoring")),
            _col("score", _("Skor (log pengeluaran)"), NUMBER),
            _col("consumption_estimate", _("Perkiraan pengeluaran per orang per bulan"), MONEY),
            _col("desil_national", _("Desil nasional"), NUMBER),
            _col("desil_regional", _("Desil wilayah"), NUMBER),
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


def _explanation_section(ctx: Context) -> dict[str, Any]:
    from tepat.registry import choices as c
    from tepat.registry.cleaning import HOUSEHOLD_CHOICE_FIELDS
    from tepat.targeting.selectors import household_score_explain

    labels = {**_household_labels(), **_proxy_labels()}
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
    return _section(
        _("Penjelasan skor terakhir"),
        description,
        [
            _col("label", _("Kondisi")),
            _col("value", _("Nilai tercatat")),
            _col("effect_percent", _("Pengaruh (%)"), NUMBER),
            _col("direction", _("Arah")),
        ],
        rows,
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


def _entitlements_section(ctx: Context) -> dict[str, Any]:
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
                "state": _choice(e, "state"),
                "recipient": ctx.who(e.beneficiary_ref),
                "desil": inputs.get("desil"),
                "components": components,
                "rule": e.cycle.frozen_rule or e.cycle.programme.eligibility_rule,
                "reason": e.reason,
            }
        )
    return _section(
        _("Program dan hak bantuan"),
        _(
            "Hak bantuan keluarga Anda per program dan tahap, dengan aturan kelayakan yang "
            "dipakai, desil, dan komponen yang menentukan nominal."
        ),
        [
            _col("programme", _("Program")),
            _col("cycle", _("Tahap (kode)")),
            _col("tahap", _("Tahap ke"), NUMBER),
            _col("period_start", _("Periode mulai"), DATE),
            _col("period_end", _("Periode selesai"), DATE),
            _col("amount", _("Nominal"), MONEY),
            _col("state", _("Status")),
            _col("recipient", _("Penerima")),
            _col("desil", _("Desil yang dipakai"), NUMBER),
            _col("components", _("Komponen")),
            _col("rule", _("Aturan kelayakan")),
            _col("reason", _("Keterangan")),
        ],
        rows,
    )


def _payments_section(ctx: Context) -> dict[str, Any]:
    rows = []
    for p in ctx.payments:
        rows.append(
            {
                "payment": p.public_id,
                "programme": p.cycle.programme.name,
                "cycle": p.cycle.code,
                "tahap": p.cycle.instalment,
                "amount": int(p.amount),
                "channel": _choice(p, "channel"),
                "provider": p.provider,
                "recipient": ctx.who(p.beneficiary_ref),
                "payee_account": p.payee_fa_masked,
                "collection_place": p.collection_place,
                "collection_from": iso(p.collection_from),
                "collection_until": iso(p.collection_until),
                "state": _choice(p, "state"),
                "sent_at": iso(p.sent_at),
                "settled_at": iso(p.settled_at),
                "receipts": ", ".join(f"#{e.index}" for e in ctx.entries.get(p.public_id, [])),
            }
        )
    return _section(
        _("Pembayaran"),
        _(
            "Setiap pembayaran bantuan kepada keluarga Anda: lewat mana, kapan, dan statusnya. "
            "Nomor tanda terima menunjuk catatan di log transparansi."
        ),
        [
            _col("payment", _("Nomor pembayaran")),
            _col("programme", _("Program")),
            _col("cycle", _("Tahap (kode)")),
            _col("tahap", _("Tahap ke"), NUMBER),
            _col("amount", _("Nominal"), MONEY),
            _col("channel", _("Saluran")),
            _col("provider", _("Penyalur")),
            _col("recipient", _("Penerima")),
            _col("payee_account", _("Rekening tujuan (tersamar)")),
            _col("collection_place", _("Tempat pengambilan")),
            _col("collection_from", _("Dapat diambil mulai"), DATETIME),
            _col("collection_until", _("Dapat diambil sampai"), DATETIME),
            _col("state", _("Status")),
            _col("sent_at", _("Dikirim"), DATETIME),
            _col("settled_at", _("Selesai"), DATETIME),
            _col("receipts", _("Tanda terima")),
        ],
        rows,
    )


def _receipts_section(ctx: Context) -> dict[str, Any]:
    from tepat.ledger.selectors import receipt

    kinds = {
        "payment.sent": _("Pembayaran dikirim ke penyalur"),
        "payment.settled": _("Pembayaran selesai"),
        "payment.failed": _("Pembayaran gagal"),
    }
    rows = []
    for p in ctx.payments:
        for entry in ctx.entries.get(p.public_id, []):
            try:
                full: dict[str, Any] | None = receipt(index=entry.index)
            except NotFound:  # sequenced, not yet under a signed checkpoint
                full = None
            rows.append(
                {
                    "payment": p.public_id,
                    "index": entry.index,
                    "kind": kinds.get(entry.kind, entry.kind),
                    "recorded_at": iso(entry.sequenced_at),
                    "tree_size": full["tree_size"] if full else None,
                    "receipt": full,
                }
            )
    return _section(
        _("Tanda terima di log transparansi"),
        _(
            "Setiap pembayaran dicatat di log transparansi publik yang ditandatangani. Tanda "
            "terima membuktikan catatan itu ada di log; periksa di halaman “Periksa tanda "
            "terima”. Berkas JSON berisi tanda terima lengkap."
        ),
        [
            _col("payment", _("Nomor pembayaran")),
            _col("index", _("Nomor catatan log"), NUMBER),
            _col("kind", _("Jenis catatan")),
            _col("recorded_at", _("Dicatat"), DATETIME),
            _col("tree_size", _("Ukuran log saat ditandatangani"), NUMBER),
        ],
        rows,
    )


def _complaint_visible(ctx: Context, c: Any) -> bool:
    """Whether the subject sees a complaint's text: filed by them, or about them."""
    return ctx.person.public_id in (c.filed_by_ref, c.subject_person_ref)


def _complaints_section(ctx: Context) -> dict[str, Any]:
    rows = []
    for c in ctx.complaints:
        visible = _complaint_visible(ctx, c)
        rows.append(
            {
                "tracking_code": c.tracking_code if visible else "",
                "category": _choice(c, "category"),
                "filed_by": ctx.who(c.filed_by_ref),
                "about": ctx.who(c.subject_person_ref),
                "status": _choice(c, "status"),
                "created_at": iso(c.created_at),
                "due_at": iso(c.due_at),
                "decided_at": iso(c.decided_at),
                "description": c.description if visible else "",
                "decision_note": c.decision_note if visible else "",
                "appeal_reason": c.appeal_reason if visible else "",
            }
        )
    return _section(
        _("Pengaduan"),
        _(
            "Pengaduan yang Anda ajukan atau yang menyangkut Anda dan keluarga. Isi pengaduan "
            "anggota keluarga lain tidak ditampilkan."
        ),
        [
            _col("tracking_code", _("Nomor pelacakan")),
            _col("category", _("Kategori")),
            _col("filed_by", _("Diajukan oleh")),
            _col("about", _("Tentang")),
            _col("status", _("Status")),
            _col("created_at", _("Diajukan"), DATETIME),
            _col("due_at", _("Batas waktu"), DATETIME),
            _col("decided_at", _("Diputuskan"), DATETIME),
            _col("description", _("Uraian")),
            _col("decision_note", _("Keputusan")),
            _col("appeal_reason", _("Alasan banding")),
        ],
        rows,
    )


def _complaint_events_section(ctx: Context) -> dict[str, Any]:
    from tepat.grievances.models import ComplaintStatus

    status = dict(ComplaintStatus.choices)
    rows = []
    for c in ctx.complaints:
        if not _complaint_visible(ctx, c):
            continue
        for ev in c.events.all():
            rows.append(
                {
                    "tracking_code": c.tracking_code,
                    "at": iso(ev.at),
                    "action": ev.action,
                    "from_status": str(status.get(ev.from_status, ev.from_status)),
                    "to_status": str(status.get(ev.to_status, ev.to_status)),
                    "note": ev.note,
                }
            )
    return _section(
        _("Riwayat pengaduan"),
        _("Perjalanan setiap pengaduan Anda, tanpa nama petugas."),
        [
            _col("tracking_code", _("Nomor pelacakan")),
            _col("at", _("Waktu"), DATETIME),
            _col("action", _("Tindakan")),
            _col("from_status", _("Dari status")),
            _col("to_status", _("Ke status")),
            _col("note", _("Catatan")),
        ],
        rows,
    )


def _reports_section(ctx: Context) -> dict[str, Any]:
    from tepat.grievances.selectors import reports_about_persons

    rows = []
    for r in reports_about_persons(person_refs=ctx.member_refs):
        # The evidence photo and its coordinates stay out: they locate the reporter.
        mine = r.subject_person_ref == ctx.person.public_id
        rows.append(
            {
                "tracking_code": r.tracking_code,
                "kind": _choice(r, "kind"),
                "about": ctx.who(r.subject_person_ref),
                "status": _choice(r, "status"),
                "created_at": iso(r.created_at),
                "due_at": iso(r.due_at),
                "decided_at": iso(r.decided_at),
                "reason": r.reason if mine else "",
                "decision_note": r.decision_note if mine else "",
            }
        )
    return _section(
        _("Usul dan sanggah tentang keluarga Anda"),
        _(
            "Laporan warga (usul atau sanggah) yang menyangkut anggota keluarga Anda, dengan "
            "hasil verifikasinya. Identitas, foto dan lokasi pelapor tidak ditampilkan."
        ),
        [
            _col("tracking_code", _("Nomor pelacakan")),
            _col("kind", _("Jenis")),
            _col("about", _("Tentang")),
            _col("status", _("Status")),
            _col("created_at", _("Diajukan"), DATETIME),
            _col("due_at", _("Batas verifikasi"), DATETIME),
            _col("decided_at", _("Diputuskan"), DATETIME),
            _col("reason", _("Alasan laporan")),
            _col("decision_note", _("Hasil verifikasi")),
        ],
        rows,
    )


def _vouchers_section(ctx: Context) -> dict[str, Any]:
    rows = [
        {
            "voucher": v.public_id,
            "payment": v.payment.public_id,
            "issued_at": iso(v.issued_at),
            "valid_from": iso(v.valid_from),
            "valid_until": iso(v.valid_until),
            "revoked_at": iso(v.revoked_at),
            "revoke_reason": v.revoke_reason,
        }
        for v in ctx.vouchers
    ]
    return _section(
        _("Voucher bantuan"),
        _("Voucher (kode QR) yang diterbitkan untuk pengambilan bantuan tunai atau e-Warung."),
        [
            _col("voucher", _("Nomor voucher")),
            _col("payment", _("Nomor pembayaran")),
            _col("issued_at", _("Diterbitkan"), DATETIME),
            _col("valid_from", _("Berlaku mulai"), DATETIME),
            _col("valid_until", _("Berlaku sampai"), DATETIME),
            _col("revoked_at", _("Dicabut"), DATETIME),
            _col("revoke_reason", _("Alasan pencabutan")),
        ],
        rows,
    )


def _handovers_section(ctx: Context) -> dict[str, Any]:
    rows = []
    for v in ctx.vouchers:
        for h in v.handovers.all():
            rows.append(
                {
                    "voucher": v.public_id,
                    "received_at": iso(h.received_at),
                    "method": _choice(h, "method"),
                    "by_proxy": h.by_proxy,
                    "status": _choice(h, "status"),
                    "flagged": h.flagged,
                    "decision": _choice(h, "decision"),
                    "decision_note": h.decision_note,
                }
            )
    return _section(
        _("Verifikasi dan serah terima bantuan"),
        _(
            "Setiap serah terima bantuan di titik penyaluran: kapan, dengan cara verifikasi apa, "
            "dan apakah diambil oleh kuasa."
        ),
        [
            _col("voucher", _("Nomor voucher")),
            _col("received_at", _("Waktu"), DATETIME),
            _col("method", _("Cara verifikasi")),
            _col("by_proxy", _("Oleh kuasa"), BOOL),
            _col("status", _("Status")),
            _col("flagged", _("Ditandai untuk diperiksa"), BOOL),
            _col("decision", _("Hasil pemeriksaan")),
            _col("decision_note", _("Catatan pemeriksaan")),
        ],
        rows,
    )


def _proxies_section(ctx: Context) -> dict[str, Any]:
    from tepat.verification.selectors import proxies_of_persons

    rows = [
        {
            "for": ctx.who(px.person_ref),
            "name": px.name,
            "reason": _choice(px, "reason"),
            "registered_at": iso(px.registered_at),
            "revoked_at": iso(px.revoked_at),
            "revoke_reason": px.revoke_reason,
        }
        for px in proxies_of_persons(person_refs=ctx.member_refs)
    ]
    return _section(
        _("Kuasa pengambil bantuan"),
        _(
            "Orang yang didaftarkan untuk mengambil bantuan atas nama anggota keluarga lanjut "
            "usia atau penyandang disabilitas. Nomor identitas kuasa tidak ditampilkan."
        ),
        [
            _col("for", _("Untuk")),
            _col("name", _("Nama kuasa")),
            _col("reason", _("Alasan")),
            _col("registered_at", _("Didaftarkan"), DATETIME),
            _col("revoked_at", _("Dicabut"), DATETIME),
            _col("revoke_reason", _("Alasan pencabutan")),
        ],
        rows,
    )


def _biometrics_section(ctx: Context) -> dict[str, Any]:
    from tepat.verification.selectors import face_enrolled

    template = face_enrolled(person_ref=ctx.person.public_id)
    row = {
        "face_enrolled": template is not None,
        "enrolled_at": iso(template.enrolled_at) if template else None,
    }
    return _section(
        _("Data biometrik"),
        _(
            "Apakah templat wajah Anda tersimpan untuk verifikasi saat pengambilan bantuan. "
            "Templat itu sendiri (angka terenkripsi, bukan foto) tidak dapat dibaca manusia dan "
            "tidak disertakan."
        ),
        [
            _col("face_enrolled", _("Templat wajah tersimpan"), BOOL),
            _col("enrolled_at", _("Didaftarkan"), DATETIME),
        ],
        [row],
        layout="record",
    )


def _notifications_section(ctx: Context) -> dict[str, Any]:
    from tepat.portal.citizen import preferences_peek

    pref = preferences_peek(person_ref=ctx.person.public_id)
    row = {
        "sms_payment": pref.sms_payment,
        "sms_schedule": pref.sms_schedule,
        "sms_grievance": pref.sms_grievance,
        "updated_at": iso(pref.updated_at) if pref.pk else None,
    }
    return _section(
        _("Pilihan pemberitahuan SMS"),
        _("Pemberitahuan apa saja yang Anda pilih untuk diterima lewat SMS."),
        [
            _col("sms_payment", _("Bantuan sudah dibayar"), BOOL),
            _col("sms_schedule", _("Jadwal dan tempat pengambilan"), BOOL),
            _col("sms_grievance", _("Perkembangan pengaduan"), BOOL),
            _col("updated_at", _("Terakhir diubah"), DATETIME),
        ],
        [row],
        layout="record",
    )


def _messages_section(ctx: Context) -> dict[str, Any]:
    refs = {p.pk: p.public_id for p in ctx.payments}
    rows = [
        {
            "payment": refs.get(m.payment_id, ""),
            "template": m.template,
            "body": m.body,
            "state": _choice(m, "state"),
            "created_at": iso(m.created_at),
            "sent_at": iso(m.sent_at),
        }
        for m in ctx.sms
    ]
    return _section(
        _("Pesan SMS tentang pembayaran"),
        _("Pesan SMS yang ditulis Tepat untuk nomor HP penerima bantuan keluarga Anda."),
        [
            _col("payment", _("Nomor pembayaran")),
            _col("body", _("Isi pesan")),
            _col("state", _("Status")),
            _col("created_at", _("Dibuat"), DATETIME),
            _col("sent_at", _("Dikirim"), DATETIME),
        ],
        rows,
    )


def _sign_ins_section(ctx: Context) -> dict[str, Any]:
    from tepat.portal.citizen import sign_in_codes

    rows = [
        {
            "requested_at": iso(otp.created_at),
            "sent_at": iso(otp.sent_at),
            "expires_at": iso(otp.expires_at),
            "used_at": iso(otp.used_at),
            "attempts": otp.attempts,
        }
        for otp in sign_in_codes(person=ctx.person)
    ]
    return _section(
        _("Kode masuk yang dikirim ke HP Anda"),
        _(
            "Setiap permintaan kode sekali pakai untuk masuk ke akun warga dengan NIK Anda: "
            "kapan diminta, dikirim dan dipakai. Kodenya sendiri tidak disimpan."
        ),
        [
            _col("requested_at", _("Diminta"), DATETIME),
            _col("sent_at", _("Dikirim"), DATETIME),
            _col("expires_at", _("Kedaluwarsa"), DATETIME),
            _col("used_at", _("Dipakai untuk masuk"), DATETIME),
            _col("attempts", _("Percobaan salah"), NUMBER),
        ],
        rows,
    )


def _access_labels() -> dict[str, str]:
    return {
        "household.view": _("Data keluarga dibuka petugas"),
        "person.view": _("Data Anda dibuka petugas"),
        "person.view_full": _("Data lengkap Anda (NIK, HP, rekening) dibuka petugas"),
        "household.register": _("Keluarga didaftarkan"),
        "person.restrict": _("Pemrosesan dibatasi"),
        "person.unrestrict": _("Pembatasan pemrosesan dicabut"),
        "proxy.register": _("Kuasa pengambil didaftarkan"),
        "proxy.revoke": _("Kuasa pengambil dicabut"),
        "face.enrol": _("Templat wajah didaftarkan"),
        "citizen.sign_in": _("Masuk ke akun warga"),
        "privacy.export_view": _("Salinan data dibuka di portal"),
        "privacy.export": _("Salinan data diunduh"),
        "privacy.access_answered": _("Permintaan akses dijawab"),
    }


def _accesses_section(ctx: Context) -> dict[str, Any]:
    from tepat.core.audit import events_about

    labels = _access_labels()
    rows = []
    targets = [("person", ctx.person.public_id), ("household", ctx.household.public_id)]
    for ev in events_about(targets=targets):
        # Staff appear by role, never by name; a read's stated purpose is shown.
        role = getattr(ev.actor, "get_role_display", None)
        rows.append(
            {
                "at": iso(ev.at),
                "action": labels.get(ev.action, ev.action),
                "by": str(role()) if role else (_("Anda atau sistem")),
                "about": _("Anda") if ev.target_type == "person" else _("Rumah tangga"),
                "purpose": str((ev.detail or {}).get("purpose", "")),
            }
        )
    return _section(
        _("Rekam jejak pemrosesan"),
        _(
            "Kapan data Anda dan keluarga dibuka, diunduh atau diubah di Tepat, oleh peran apa "
            "dan untuk keperluan apa (petugas ditampilkan menurut perannya, tanpa nama)."
        ),
        [
            _col("at", _("Waktu"), DATETIME),
            _col("action", _("Kegiatan")),
            _col("by", _("Oleh")),
            _col("about", _("Tentang")),
            _col("purpose", _("Keperluan")),
        ],
        rows,
    )


def _channel_data() -> dict[str, str]:
    return {
        "bank": _("nama penerima, nomor rekening KKS, nominal, nomor referensi pembayaran"),
        "ewallet": _("nama penerima, nomor dompet elektronik, nominal, nomor referensi"),
        "cash_pos": _("nama penerima, nominal, kantor pos, jadwal pengambilan"),
        "ewarung": _("nama penerima, voucher, nominal, e-Warung, jadwal pengambilan"),
    }


def _published(entries: list[Any]) -> str:
    """What the public log holds about the household, read from its own entries (their fields
    differ between entry versions): never a name, NIK or account number."""
    words = {
        "payment": _("nomor pembayaran"),
        "beneficiary": _("nama samaran"),
        "programme": _("program"),
        "cycle": _("tahap"),
        "time": _("waktu"),
        "amount": _("nominal"),
        "amount_min": _("rentang nominal"),
        "region": _("kode wilayah"),
        "channel": _("saluran"),
        "reason": _("alasan gagal"),
    }
    keys: set[str] = set()
    for entry in entries:
        try:
            keys.update(json.loads(entry.body))
        except ValueError:
            continue
    fields = ", ".join(word for key, word in words.items() if key in keys)
    return _("%(fields)s; tanpa nama, NIK atau nomor rekening") % {"fields": fields}


def _recipients_section(ctx: Context) -> dict[str, Any]:
    groups: dict[tuple[str, str], list[Any]] = {}
    for p in ctx.payments:
        groups.setdefault((p.channel, p.provider), []).append(p)
    data = _channel_data()
    rows: list[dict[str, Any]] = []
    for (channel, provider), pays in sorted(groups.items()):
        dates = [p.sent_at or p.created_at for p in pays]
        rows.append(
            {
                "recipient": provider,
                "role": _("Penyalur bantuan: %(channel)s")
                % {"channel": _choice(pays[0], "channel")},
                "data": data.get(channel, ""),
                "count": len(pays),
                "first": iso(min(dates)),
                "last": iso(max(dates)),
            }
        )
    sms = ctx.sms
    if sms:
        sent = [m.sent_at or m.created_at for m in sms]
        rows.append(
            {
                "recipient": _("Gateway SMS"),
                "role": _("Pengirim pesan SMS"),
                "data": _("nomor HP penerima bantuan dan isi pesan"),
                "count": len(sms),
                "first": iso(min(sent)),
                "last": iso(max(sent)),
            }
        )
    entries = [e for refs in ctx.entries.values() for e in refs]
    if entries:
        rows.append(
            {
                "recipient": _("Log transparansi publik"),
                "role": _("Publik (siapa saja dapat membaca)"),
                "data": _published(entries),
                "count": len(entries),
                "first": iso(min(e.sequenced_at for e in entries)),
                "last": iso(max(e.sequenced_at for e in entries)),
            }
        )
    return _section(
        _("Siapa yang menerima data Anda"),
        _(
            "Pihak di luar Tepat yang menerima sebagian data Anda untuk menyalurkan bantuan atau "
            "mengirim pesan, dan data apa yang mereka terima."
        ),
        [
            _col("recipient", _("Penerima data")),
            _col("role", _("Peran")),
            _col("data", _("Data yang diterima")),
            _col("count", _("Jumlah kiriman"), NUMBER),
            _col("first", _("Pertama"), DATETIME),
            _col("last", _("Terakhir"), DATETIME),
        ],
        rows,
    )


def collect(person: Person) -> dict[str, dict[str, Any]]:
    """Every section for `person` and their household, keyed by section key, in reading order."""
    from tepat.ledger.selectors import entries_for_refs
    from tepat.payments.selectors import household_payments
    from tepat.registry.selectors import household_view

    household = person.household
    view = household_view(household=household)
    ctx = Context(person=person, household=household, members=view.members)
    ctx.member_by_ref = {m.person.public_id: m for m in view.members}
    ctx.payments = list(household_payments(household_id=household.pk))
    ctx.entries = entries_for_refs(refs=[p.public_id for p in ctx.payments])
    sections: dict[str, dict[str, Any]] = {}
    builders: list[tuple[str, Callable[[Context], dict[str, Any]]]] = [
        ("subject", _subject_section),
        ("household", _household_section),
        ("members", _members_section),
        ("financial_addresses", _financial_section),
        ("sources", _sources_section),
        ("flags", _flags_section),
        ("history", _history_section),
        ("scores", _scores_section),
        ("score_explanation", _explanation_section),
        ("entitlements", _entitlements_section),
        ("payments", _payments_section),
        ("receipts", _receipts_section),
        ("complaints", _complaints_section),
        ("complaint_events", _complaint_events_section),
        ("community_reports", _reports_section),
        ("vouchers", _vouchers_section),
        ("handovers", _handovers_section),
        ("proxies", _proxies_section),
        ("biometrics", _biometrics_section),
        ("notifications", _notifications_section),
        ("messages", _messages_section),
        ("sign_ins", _sign_ins_section),
        ("recipients", _recipients_section),
        ("accesses", _accesses_section),
    ]
    for key, build in builders:
        sections[key] = build(ctx)
    return sections
