"""The registry's sections of the data subject's copy (tepat.privacy.export): the subject's own
record, the household's, its members, the subject's accounts and the history of changes. What
each shows of whom is explained in tepat.privacy.export."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from tepat.core.errors import NotFound
from tepat.core.subject_export import (
    BOOL,
    CHANGES,
    DATE,
    DATETIME,
    NUMBER,
    TEXT,
    ExportSection,
    SubjectContext,
    choice,
    col,
    iso,
    section,
)


def person_labels() -> dict[str, str]:
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


def household_labels() -> dict[str, str]:
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


def identifiers(ctx: SubjectContext) -> Any:
    """The subject's own NIK, KK, phone and account numbers in clear (decrypted once)."""
    from tepat.registry.selectors import subject_identifiers

    return ctx.shared("registry.identifiers", lambda: subject_identifiers(person=ctx.person))


def _subject_section(ctx: SubjectContext) -> dict[str, Any]:
    p = ctx.person
    ids = identifiers(ctx)
    labels = person_labels()
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
        "sex": choice(p, "sex"),
        "birth_date": iso(p.birth_date),
        "birth_place": p.birth_place,
        "relationship": choice(p, "relationship"),
        "marital_status": choice(p, "marital_status"),
        "education": choice(p, "education"),
        "school_level": choice(p, "school_level"),
        "work_sector": choice(p, "work_sector"),
        "disability": choice(p, "disability"),
        "pregnant": bool(p.pregnant),
        "phone": ids.phone,
        "deceased_on": iso(p.deceased_on),
        "processing_restricted_at": iso(p.processing_restricted_at),
        "created_at": iso(p.created_at),
        "updated_at": iso(p.updated_at),
    }
    return section(
        _("Data diri Anda"),
        _("Data Anda di registri sosial, lengkap, termasuk NIK dan nomor HP."),
        [col(k, labels[k], kinds.get(k, TEXT)) for k in row],
        [row],
        layout="record",
    )


def _household_section(ctx: SubjectContext) -> dict[str, Any]:
    from tepat.regions.selectors import region_ancestors
    from tepat.registry.cleaning import HOUSEHOLD_EDITABLE

    h = ctx.household
    labels = household_labels()
    try:
        region = ", ".join(r.name for r in reversed(region_ancestors(h.village_id)))
    except NotFound:
        region = ""
    row: dict[str, Any] = {
        "public_id": h.public_id,
        "kk": identifiers(ctx).kk,
        "region": region,
        "village_code": h.village_id,
    }
    kinds: dict[str, str] = {"created_at": DATETIME, "updated_at": DATETIME}
    for name in HOUSEHOLD_EDITABLE:
        model_field = h._meta.get_field(name)
        if model_field.choices:
            row[name] = choice(h, name)
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
    return section(
        _("Data keluarga (Kartu Keluarga) dan rumah"),
        _(
            "Data rumah tangga Anda: alamat, kondisi rumah dan aset. Data ini dipakai untuk "
            "menghitung skor kesejahteraan keluarga."
        ),
        [col(k, labels.get(k, k), kinds.get(k, TEXT)) for k in row],
        [row],
        layout="record",
    )


def _members_section(ctx: SubjectContext) -> dict[str, Any]:
    rows = []
    for m in ctx.members:
        p = m.person
        rows.append(
            {
                "full_name": p.full_name,
                "relationship": choice(p, "relationship"),
                "age": m.age,
                "deceased": p.deceased_on is not None,
                "is_you": p.pk == ctx.person.pk,
            }
        )
    return section(
        _("Anggota keluarga"),
        _(
            "Anggota keluarga dalam KK Anda. Data lain tentang anggota keluarga (NIK, tanggal "
            "lahir, kesehatan, sekolah, rekening) adalah data pribadi mereka sendiri dan tidak "
            "ditampilkan di sini."
        ),
        [
            col("full_name", _("Nama")),
            col("relationship", _("Hubungan")),
            col("age", _("Umur (tahun)"), NUMBER),
            col("deceased", _("Meninggal"), BOOL),
            col("is_you", _("Anda"), BOOL),
        ],
        rows,
    )


def _financial_section(ctx: SubjectContext) -> dict[str, Any]:
    from tepat.registry.selectors import financial_addresses_of

    accounts = identifiers(ctx).accounts
    rows = [
        {
            "kind": choice(fa, "kind"),
            "provider": fa.provider,
            "account": accounts.get(fa.public_id, ""),
            "holder_name": fa.holder_name,
            "valid_from": iso(fa.valid_from),
            "valid_to": iso(fa.valid_to),
            "source": fa.source,
        }
        for fa in financial_addresses_of(person=ctx.person)
    ]
    return section(
        _("Rekening dan alamat pembayaran Anda"),
        _("Rekening bank atau dompet elektronik atas nama Anda, yang sekarang dan yang lama."),
        [
            col("kind", _("Jenis")),
            col("provider", _("Penyedia")),
            col("account", _("Nomor rekening")),
            col("holder_name", _("Nama pemilik")),
            col("valid_from", _("Berlaku sejak"), DATETIME),
            col("valid_to", _("Berlaku sampai"), DATETIME),
            col("source", _("Sumber")),
        ],
        rows,
    )


def _history_section(ctx: SubjectContext) -> dict[str, Any]:
    from tepat.registry.selectors import financial_addresses_of, household_history

    labels = {**household_labels(), **person_labels()}
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
    return section(
        _("Riwayat perubahan data"),
        _(
            "Setiap perubahan data Anda dan keluarga: kapan, dari sumber apa, dan apa yang "
            "berubah. Untuk anggota keluarga lain hanya nama kolom yang berubah ditampilkan."
        ),
        [
            col("at", _("Waktu"), DATETIME),
            col("about", _("Tentang")),
            col("action", _("Tindakan")),
            col("source", _("Sumber")),
            col("reason", _("Alasan")),
            col("changes", _("Perubahan"), CHANGES),
        ],
        rows,
    )


SECTIONS = (
    ExportSection("subject", 10, _subject_section),
    ExportSection("household", 20, _household_section),
    ExportSection("members", 30, _members_section),
    ExportSection("financial_addresses", 40, _financial_section),
    ExportSection("history", 70, _history_section),
)
