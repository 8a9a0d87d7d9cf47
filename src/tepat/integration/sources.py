"""Agency sources as configuration.

A source is a JSON object; operators add one (`tepat integration source-add FILE.json`) without a
code change. Keys:

- key, name: identifier (slug) and label.
- format: "csv" | "xlsx" | "jsonl". encoding: "auto" (BOM, UTF-8, else Latin-1) or a codec name.
  delimiter: "auto" (`,` `;` or tab, sniffed from the header) or the character.
- record_id: the column that identifies a record within the source (row number when absent).
- columns: canonical field -> source column. Canonical fields: CANONICAL_FIELDS below; "age" is
  the age in years on the delivery date, for sources that state an age instead of a birth date.
- values: canonical field -> {source value: canonical value} (e.g. sex "PEREMPUAN" -> "F").
- date_formats: strptime formats tried in order (ISO is always tried first).
- required: canonical fields a row must have.
- household_columns: household attribute -> source column (a socio-economic survey: floor,
  walls, water, assets ...; names as in the registry's household, HOUSEHOLD_FIELDS below).
  Values are checked like the registry's own household data; a linked registry person's
  household takes them when this source is authoritative for them.
- authoritative_for: canonical fields (and household attributes) this source decides.
- precedence: higher wins when two sources are authoritative for the same field.
- nik_reference: this source is the civil registry: a NIK absent from it is flagged.
- flags: rules raising eligibility flags on linked registry persons:
  {"kind": "deceased", "when": "deceased_on"} (canonical field present),
  {"kind": "civil_servant"} (any record), {"kind": "high_electricity", "attr": "DAYA", "min": 2200}.
"""

from __future__ import annotations

from typing import Any

from tepat.core.errors import FieldProblem, ValidationFailed
from tepat.registry.cleaning import (
    HOUSEHOLD_BOOL_FIELDS,
    HOUSEHOLD_CHOICE_FIELDS,
    HOUSEHOLD_INT_FIELDS,
)

HOUSEHOLD_FIELDS = (*HOUSEHOLD_CHOICE_FIELDS, *HOUSEHOLD_INT_FIELDS, *HOUSEHOLD_BOOL_FIELDS)

CANONICAL_FIELDS = (
    "nik",
    "kk",
    "full_name",
    "sex",
    "birth_date",
    "birth_place",
    "village_code",
    "address",
    "rt",
    "rw",
    "deceased_on",
    "age",
)
FORMATS = ("csv", "xlsx", "jsonl")
FLAG_KINDS = (
    "deceased",
    "duplicate",
    "civil_servant",
    "high_electricity",
    "moved",
    "nik_not_found",
)

_SEX_ID = {
    "LAKI-LAKI": "M",
    "LAKI LAKI": "M",
    "L": "M",
    "PRIA": "M",
    "M": "M",
    "PEREMPUAN": "F",
    "P": "F",
    "WANITA": "F",
    "F": "F",
}

BUILTIN_SOURCES: list[dict[str, Any]] = [
    {
        "key": "dukcapil",
        "name": "Dukcapil (civil registry)",
        "format": "csv",
        "record_id": "source_record_id",
        "columns": {
            "nik": "NIK",
            "kk": "NO_KK",
            "full_name": "NAMA_LGKP",
            "sex": "JENIS_KLMIN",
            "birth_place": "TMPT_LHR",
            "birth_date": "TGL_LHR",
            "address": "ALAMAT",
            "rt": "NO_RT",
            "rw": "NO_RW",
            "village_code": "KODE_DESA",
            "deceased_on": "TGL_MATI",
        },
        "values": {"sex": _SEX_ID},
        "date_formats": ["%d-%m-%Y"],
        "required": ["nik", "full_name", "birth_date", "village_code"],
        "authoritative_for": ["full_name", "birth_date", "sex", "deceased_on", "kk"],
        "precedence": 100,
        "nik_reference": True,
        "flags": [{"kind": "deceased", "when": "deceased_on"}],
    },
    {
        "key": "dtsen",
        "name": "Survei sosial-ekonomi (DTSEN)",
        "format": "csv",
        "record_id": "source_record_id",
        "columns": {
            "nik": "NIK_KRT",
            "full_name": "NAMA_KRT",
            "sex": "KRT_JK",
            "village_code": "KODE_DESA",
            "age": "KRT_UMUR",
        },
        "values": {"sex": _SEX_ID},
        "required": ["full_name", "village_code"],
        "household_columns": {
            "floor_material": "LANTAI",
            "wall_material": "DINDING",
            "roof_material": "ATAP",
            "floor_area_m2": "LUAS_LANTAI",
            "drinking_water": "AIR_MINUM",
            "toilet": "JAMBAN",
            "electricity": "PENERANGAN",
            "electricity_va": "DAYA_VA",
            "cooking_fuel": "BAHAN_BAKAR",
            "owns_motorcycle": "MOTOR",
            "owns_refrigerator": "KULKAS",
            "owns_car": "MOBIL",
            "owns_land": "LAHAN",
            "land_area_m2": "LUAS_LAHAN",
            "livestock_count": "TERNAK",
        },
        "authoritative_for": [
            "floor_material",
            "wall_material",
            "roof_material",
            "floor_area_m2",
            "drinking_water",
            "toilet",
            "electricity",
            "electricity_va",
            "cooking_fuel",
            "owns_motorcycle",
            "owns_refrigerator",
            "owns_car",
            "owns_land",
            "land_area_m2",
            "livestock_count",
        ],
        "precedence": 80,
        "flags": [],
    },
    {
        "key": "bpjs",
        "name": "BPJS Kesehatan",
        "format": "csv",
        "record_id": "source_record_id",
        "columns": {
            "nik": "NIK",
            "full_name": "NAMA",
            "birth_date": "TGL_LAHIR",
            "sex": "JK",
            "address": "ALAMAT",
            "village_code": "KD_DESA",
        },
        "values": {"sex": _SEX_ID},
        "date_formats": ["%d-%m-%Y", "%d/%m/%Y"],
        "required": ["full_name", "birth_date"],
        "authoritative_for": [],
        "precedence": 50,
        "flags": [],
    },
    {
        "key": "asn_payroll",
        "name": "Gaji ASN / TNI / Polri",
        "format": "csv",
        "record_id": "source_record_id",
        "columns": {
            "nik": "NIK",
            "full_name": "NAMA",
            "birth_date": "TGL_LAHIR",
            "sex": "JENIS_KELAMIN",
            "address": "ALAMAT",
        },
        "values": {"sex": _SEX_ID},
        "date_formats": ["%d/%m/%Y", "%d-%m-%Y"],
        "required": ["full_name", "birth_date"],
        "authoritative_for": [],
        "precedence": 40,
        "flags": [{"kind": "civil_servant"}],
    },
    {
        "key": "pln",
        "name": "PLN (pelanggan listrik)",
        "format": "csv",
        "record_id": "source_record_id",
        "columns": {
            "nik": "NIK",
            "full_name": "NAMA_PELANGGAN",
            "address": "ALAMAT",
            "village_code": "KODE_DESA",
        },
        "values": {},
        "required": ["full_name"],
        "authoritative_for": [],
        "precedence": 30,
        "flags": [{"kind": "high_electricity", "attr": "DAYA", "min": 2200}],
    },
]

# `tepat synth` writes the survey as survey.csv and the payroll as asn_payroll.csv.
SYNTH_FILES = {
    "dukcapil": "dukcapil.csv",
    "dtsen": "survey.csv",
    "bpjs": "bpjs.csv",
    "asn_payroll": "asn_payroll.csv",
    "pln": "pln.csv",
}


def config_check(config: dict[str, Any]) -> dict[str, Any]:
    """Validate a source configuration; returns it with defaults filled, or raises."""
    problems: list[FieldProblem] = []

    def bad(field: str, message: str) -> None:
        problems.append(FieldProblem(field, "invalid_config", message))

    key = str(config.get("key") or "")
    if not key or not key.replace("_", "").replace("-", "").isalnum() or len(key) > 32:
        bad("key", "key harus slug <= 32 karakter / key must be a short slug")
    if not config.get("name"):
        bad("name", "name wajib diisi / name is required")
    if config.get("format", "csv") not in FORMATS:
        bad("format", f"format harus salah satu dari {FORMATS} / unknown format")
    columns = config.get("columns")
    if not isinstance(columns, dict) or not columns:
        bad("columns", "columns wajib berupa objek / columns must map fields to columns")
        columns = {}
    for name in columns:
        if name not in CANONICAL_FIELDS:
            bad(f"columns.{name}", f"bidang {name!r} tidak dikenal / unknown canonical field")
    if "full_name" not in columns:
        bad("columns.full_name", "full_name harus dipetakan / full_name must be mapped")
    for name in config.get("required", []):
        if name not in columns:
            bad("required", f"{name!r} wajib tapi tidak dipetakan / required but not mapped")
    household = config.get("household_columns", {})
    if not isinstance(household, dict):
        bad("household_columns", "household_columns harus objek / must map attributes to columns")
        household = {}
    for name in household:
        if name not in HOUSEHOLD_FIELDS:
            bad(
                f"household_columns.{name}",
                f"atribut rumah tangga {name!r} tidak dikenal / unknown household attribute",
            )
    for rule in config.get("flags", []):
        if not isinstance(rule, dict) or rule.get("kind") not in FLAG_KINDS:
            bad("flags", f"aturan bendera tidak valid: {rule!r} / invalid flag rule")
    if problems:
        raise ValidationFailed(problems)
    out = {
        "format": "csv",
        "encoding": "auto",
        "delimiter": "auto",
        "record_id": "",
        "values": {},
        "household_columns": {},
        "date_formats": [],
        "required": [],
        "authoritative_for": [],
        "precedence": 0,
        "nik_reference": False,
        "flags": [],
    }
    out.update(config)
    return out
