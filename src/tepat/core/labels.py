"""Labels for codes that are not model choices: the one place a page turns a stored code into
words (`{% load tepat_format %}{{ code|label:"import_status" }}`).

Model choices keep their own labels (`get_FOO_display`); this holds what has none: the
registry history's entity types, actions and snapshot field names, import and link run
statuses, complaint history events, audit actions. The maps hold only strings, so core
imports no app for them. An unknown code is shown as it is, never hidden: a new code reads
raw until it is named here, and the tests that render pages with known codes catch that.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# What a registry change record is about (ChangeRecord.entity_type).
HISTORY_ENTITY: Mapping[str, Promise] = {
    "household": _("Rumah tangga"),
    "person": _("Anggota keluarga"),
    "financial_address": _("Rekening"),
}

# ChangeRecord.Action.
HISTORY_ACTION: Mapping[str, Promise] = {
    "create": _("Dibuat"),
    "update": _("Diubah"),
    "move": _("Pindah"),
    "close": _("Ditutup"),
}

# Fields of the registry's snapshots (registry.snapshots), as the history lists them.
HISTORY_FIELD: Mapping[str, Promise] = {
    "public_id": _("Nomor rekaman"),
    "household": _("Rumah tangga"),
    "person": _("Anggota keluarga"),
    "kk_masked": _("Nomor KK"),
    "kk_index": _("Indeks No. KK"),
    "village_code": _("Desa/kelurahan"),
    "address": _("Alamat"),
    "rt": _("RT"),
    "rw": _("RW"),
    "floor_material": _("Lantai"),
    "wall_material": _("Dinding"),
    "roof_material": _("Atap"),
    "drinking_water": _("Air minum"),
    "toilet": _("Jamban"),
    "electricity": _("Listrik"),
    "cooking_fuel": _("Bahan bakar memasak"),
    "floor_area_m2": _("Luas lantai (m²)"),
    "electricity_va": _("Daya listrik (VA)"),
    "land_area_m2": _("Luas lahan (m²)"),
    "livestock_count": _("Jumlah ternak"),
    "owns_motorcycle": _("Memiliki sepeda motor"),
    "owns_refrigerator": _("Memiliki kulkas"),
    "owns_car": _("Memiliki mobil"),
    "owns_land": _("Memiliki lahan"),
    "nik_masked": _("NIK"),
    "nik_index": _("Indeks NIK"),
    "full_name": _("Nama lengkap"),
    "sex": _("Jenis kelamin"),
    "birth_date": _("Tanggal lahir"),
    "birth_place": _("Tempat lahir"),
    "relationship": _("Hubungan dengan kepala keluarga"),
    "marital_status": _("Status kawin"),
    "education": _("Pendidikan"),
    "school_level": _("Sekolah"),
    "work_sector": _("Pekerjaan"),
    "disability": _("Disabilitas"),
    "pregnant": _("Hamil"),
    "phone_masked": _("Nomor HP"),
    "deceased_on": _("Tanggal meninggal"),
    "financial_address": _("Rekening"),
    "kind": _("Jenis rekening"),
    "provider": _("Penyedia"),
    "account_masked": _("Nomor rekening"),
    "holder_name": _("Nama pemilik rekening"),
    "valid_from": _("Berlaku sejak"),
    "valid_to": _("Berlaku sampai"),
}

# integration: ImportRun.Status, LinkRun.Status and QuarantinedRow.Status.
IMPORT_STATUS: Mapping[str, Promise] = {
    "pending": _("Menunggu"),
    "running": _("Sedang berjalan"),
    "done": _("Selesai"),
    "failed": _("Gagal"),
}
QUARANTINE_STATUS: Mapping[str, Promise] = {
    "open": _("Terbuka"),
    "resubmitted": _("Diajukan ulang"),
    "discarded": _("Dibuang"),
}

# grievances: ComplaintEvent.action.
COMPLAINT_EVENT: Mapping[str, Promise] = {
    "received": _("Pengaduan diterima"),
    "assigned": _("Ditangani petugas"),
    "decided": _("Diputuskan"),
    "appealed": _("Banding diajukan"),
    "escalated": _("Dieskalasi karena lewat batas waktu"),
}

# verification: why a handover was refused or flagged (Handover.reason).
HANDOVER_REASON: Mapping[str, Promise] = {
    "unknown_voucher": _("voucher tidak dikenal di wilayah petugas"),
    "revoked": _("voucher telah dicabut"),
    "payment_cancelled": _("pembayaran atau tahap dibatalkan"),
    "no_card_on_file": _("tidak ada kartu bank terdaftar"),
    "no_registered_proxy": _("wakil tidak terdaftar"),
    "double_redemption": _("penukaran ganda"),
    "bad_client_id": _("nomor penyerahan dari perangkat tidak sah"),
}

# Targeting measures, as chart and table headings.
TARGETING_METRIC: Mapping[str, Promise] = {
    "coverage": _("Cakupan"),
    "inclusion_error": _("Galat inklusi"),
    "exclusion_error": _("Galat eksklusi"),
    "mistargeting": _("Salah sasaran"),
    "selected": _("Terpilih"),
}

# Boolean values in a history or snapshot.
YES_NO: Mapping[bool, Promise] = {True: _("ya"), False: _("tidak")}

# Audit actions (core.audit) are read by their first part: what the action touched.
AUDIT_DOMAIN: Mapping[str, Promise] = {
    "citizen": _("Akun warga"),
    "cycle": _("Tahap"),
    "difference": _("Selisih rekonsiliasi"),
    "entitlement": _("Hak penerima"),
    "ewarung": _("e-Warung"),
    "face": _("Wajah"),
    "financial_address": _("Rekening"),
    "grievance": _("Pengaduan"),
    "handover": _("Penyerahan"),
    "handovers": _("Penyerahan"),
    "household": _("Rumah tangga"),
    "integration": _("Integrasi data"),
    "ledger": _("Buku besar"),
    "login": _("Masuk"),
    "logout": _("Keluar"),
    "monitoring": _("Pemantauan"),
    "otp": _("Kode OTP"),
    "payment": _("Pembayaran"),
    "payments": _("Pembayaran"),
    "person": _("Anggota keluarga"),
    "privacy": _("Data pribadi"),
    "programme": _("Program"),
    "proxy": _("Wakil penerima"),
    "regions": _("Wilayah"),
    "registry": _("Registri"),
    "statement": _("Rekening koran"),
    "targeting": _("Penargetan"),
    "transparency": _("Transparansi"),
    "user": _("Pengguna"),
    "verification": _("Verifikasi"),
    "verification_policy": _("Kebijakan verifikasi"),
    "voucher": _("Voucher"),
    "vouchers": _("Voucher"),
}

LABELS: Mapping[str, Mapping[str, Promise]] = {
    "history_entity": HISTORY_ENTITY,
    "history_action": HISTORY_ACTION,
    "history_field": HISTORY_FIELD,
    "import_status": IMPORT_STATUS,
    "quarantine_status": QUARANTINE_STATUS,
    "complaint_event": COMPLAINT_EVENT,
    "handover_reason": HANDOVER_REASON,
    "targeting_metric": TARGETING_METRIC,
    "audit_domain": AUDIT_DOMAIN,
}


def label(kind: str, code: object) -> str:
    """The words for `code` in the map `kind`, in the active language; the code itself when the
    map does not know it (and an unknown map is a programming error: KeyError)."""
    labels = LABELS[kind]
    if code is None:
        return ""
    found = labels.get(str(code))
    return str(found) if found is not None else str(code)


def audit_domain(action: str) -> str:
    """``household.view`` -> ``Rumah tangga``: what an audit action touched, in words ("" when
    unknown). Pages show it beside the exact action, which auditors filter by."""
    found = AUDIT_DOMAIN.get(str(action).split(".", 1)[0])
    return str(found) if found is not None else ""
