"""Turning raw input (a form, an API body, a CSV row) into clean registry values, or problems.

The same functions serve single edits and bulk loads, so a rule is written once. Each returns the
cleaned dict and adds every problem (field, reason, row) to a `Problems`; callers refuse the whole
record (or the whole file) when there is any error.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from django.db import models

from tepat.core.errors import Problems
from tepat.registry import choices as c
from tepat.registry.validators import validate_kk, validate_nik

HOUSEHOLD_CHOICE_FIELDS: dict[str, type[models.TextChoices]] = {
    "floor_material": c.FloorMaterial,
    "wall_material": c.WallMaterial,
    "roof_material": c.RoofMaterial,
    "drinking_water": c.DrinkingWater,
    "toilet": c.Toilet,
    "electricity": c.Electricity,
    "cooking_fuel": c.CookingFuel,
}
HOUSEHOLD_INT_FIELDS = ("floor_area_m2", "electricity_va", "land_area_m2", "livestock_count")
HOUSEHOLD_BOOL_FIELDS = ("owns_motorcycle", "owns_refrigerator", "owns_car", "owns_land")
HOUSEHOLD_TEXT_FIELDS = {"address": 255, "rt": 3, "rw": 3}
HOUSEHOLD_EDITABLE = (
    *HOUSEHOLD_TEXT_FIELDS,
    *HOUSEHOLD_CHOICE_FIELDS,
    *HOUSEHOLD_INT_FIELDS,
    *HOUSEHOLD_BOOL_FIELDS,
)

PERSON_CHOICE_FIELDS: dict[str, type[models.TextChoices]] = {
    "sex": c.Sex,
    "relationship": c.Relationship,
    "marital_status": c.MaritalStatus,
    "education": c.Education,
    "school_level": c.SchoolLevel,
    "work_sector": c.WorkSector,
    "disability": c.Disability,
}
PERSON_REQUIRED = ("full_name", "sex", "birth_date", "relationship")
PERSON_EDITABLE = (
    "full_name",
    "sex",
    "birth_date",
    "birth_place",
    "relationship",
    "marital_status",
    "education",
    "school_level",
    "work_sector",
    "disability",
    "pregnant",
    "phone",
    "deceased_on",
)

_TRUE = {"1", "true", "yes", "ya", "y"}
_FALSE = {"0", "false", "no", "tidak", "n", ""}


def name_search_key(name: str) -> str:
    """Lower-case, accents stripped, spaces collapsed: the key name searches compare."""
    folded = unicodedata.normalize("NFKD", name)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(folded.lower().split())


def parse_date(
    raw: Any, field: str, p: Problems, row: int | None, *, required: bool, today: dt.date
) -> dt.date | None:
    if raw is None or raw == "":
        if required:
            p.error(field, "required", f"{field} wajib diisi / is required", row)
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    value: dt.date | None
    if isinstance(raw, dt.date):
        value = raw
    else:
        text = str(raw).strip()
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            value = None
            for fmt in ("%d-%m-%Y", "%d/%m/%Y"):
                try:
                    value = dt.datetime.strptime(text, fmt).date()
                    break
                except ValueError:
                    continue
            if value is None:
                p.error(
                    field,
                    "impossible_date",
                    f"Tanggal {text!r} tidak valid (pakai YYYY-MM-DD) / invalid or impossible date",
                    row,
                )
                return None
    if value is None:
        return None
    if value > today:
        p.error(field, "future_date", f"Tanggal {value} di masa depan / date is in the future", row)
        return None
    if value.year < 1890:
        p.error(field, "impossible_date", f"Tanggal {value} tidak mungkin / impossible date", row)
        return None
    return value


def parse_bool(raw: Any, field: str, p: Problems, row: int | None) -> bool:
    if isinstance(raw, bool):
        return raw
    text = "" if raw is None else str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    p.error(field, "not_boolean", f"Nilai {raw!r} bukan ya/tidak (1/0) / not a yes/no value", row)
    return False


def parse_int(raw: Any, field: str, p: Problems, row: int | None) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        p.error(
            field, "not_integer", f"Nilai {raw!r} bukan bilangan bulat / not a whole number", row
        )
        return None
    if value < 0:
        p.error(field, "negative", f"Nilai {value} tidak boleh negatif / cannot be negative", row)
        return None
    return value


@lru_cache(maxsize=64)
def _values(enum: type[models.TextChoices]) -> tuple[str, ...]:
    # TextChoices.values is rebuilt on every access; a load asks millions of times.
    return tuple(enum.values)


def parse_choice(
    raw: Any, field: str, enum: type[models.TextChoices], p: Problems, row: int | None
) -> str:
    text = "" if raw is None else str(raw).strip()
    values = _values(enum)
    if text in values:
        return text
    if text.lower() in values:
        return text.lower()
    if text == "" and "" not in values:
        return ""
    p.error(
        field,
        "unknown_code",
        f"Kode {text!r} tidak dikenal; pilihan: {', '.join(v for v in values if v)} / unknown code",
        row,
    )
    return ""


def clean_household(
    data: Mapping[str, Any],
    p: Problems,
    *,
    row: int | None = None,
    region_exists: Callable[[str], bool],
    village_exists: Callable[[str], bool],
    today: dt.date,
    partial: bool = False,
) -> dict[str, Any]:
    """Clean household fields. With `partial`, only the keys present are checked (an update)."""
    out: dict[str, Any] = {}
    if not partial or "kk" in data:
        out["kk"], problems = validate_kk(data.get("kk"), row=row, region_exists=region_exists)
        p.items.extend(problems)
    if not partial or "village_code" in data:
        village = str(data.get("village_code") or "").replace(".", "").strip()
        if not village:
            p.error(
                "village_code", "required", "Kode desa wajib diisi / village code is required", row
            )
        elif len(village) != 10 or not village.isdigit() or not village_exists(village):
            p.error(
                "village_code",
                "unknown_region",
                f"Kode desa/kelurahan {village!r} tidak dikenal / unknown village code",
                row,
            )
        out["village_code"] = village
    for name, max_len in HOUSEHOLD_TEXT_FIELDS.items():
        if partial and name not in data:
            continue
        text = str(data.get(name) or "").strip()
        if len(text) > max_len:
            p.error(name, "too_long", f"Lebih dari {max_len} karakter / longer than {max_len}", row)
        out[name] = text[:max_len]
    for name, enum in HOUSEHOLD_CHOICE_FIELDS.items():
        if not partial or name in data:
            out[name] = parse_choice(data.get(name), name, enum, p, row)
    for name in HOUSEHOLD_INT_FIELDS:
        if not partial or name in data:
            value = parse_int(data.get(name), name, p, row)
            out[name] = 0 if value is None and name == "livestock_count" else value
    for name in HOUSEHOLD_BOOL_FIELDS:
        if not partial or name in data:
            out[name] = parse_bool(data.get(name), name, p, row)
    va = out.get("electricity_va")
    if va is not None and va not in c.ELECTRICITY_VA:
        p.warning("electricity_va", "unusual_va", f"Daya {va} VA tidak lazim / unusual VA", row)
    unknown = set(data) - set(HOUSEHOLD_EDITABLE) - {"kk", "village_code"}
    for name in sorted(unknown):
        p.error(name, "unknown_field", f"Kolom {name!r} tidak dikenal / unknown field", row)
    return out


def clean_person(
    data: Mapping[str, Any],
    p: Problems,
    *,
    row: int | None = None,
    region_exists: Callable[[str], bool],
    today: dt.date,
    partial: bool = False,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in PERSON_REQUIRED:
        if not partial and not str(data.get(name) or "").strip():
            p.error(name, "required", f"{name} wajib diisi / is required", row)
    if not partial or "full_name" in data:
        name_text = " ".join(str(data.get("full_name") or "").split())
        if len(name_text) > 150:
            p.error("full_name", "too_long", "Nama lebih dari 150 karakter / name too long", row)
        if any(ch.isdigit() for ch in name_text):
            p.error(
                "full_name", "digits_in_name", "Nama tidak boleh berisi angka / digits in name", row
            )
        out["full_name"] = name_text[:150]
    for name, enum in PERSON_CHOICE_FIELDS.items():
        if not partial or name in data:
            out[name] = parse_choice(data.get(name), name, enum, p, row)
    if not partial or "birth_date" in data:
        out["birth_date"] = parse_date(
            data.get("birth_date"), "birth_date", p, row, required=True, today=today
        )
    if not partial or "deceased_on" in data:
        out["deceased_on"] = parse_date(
            data.get("deceased_on"), "deceased_on", p, row, required=False, today=today
        )
    if not partial or "birth_place" in data:
        out["birth_place"] = str(data.get("birth_place") or "").strip()[:100]
    if not partial or "pregnant" in data:
        out["pregnant"] = parse_bool(data.get("pregnant"), "pregnant", p, row)
    if not partial or "phone" in data:
        phone = "".join(ch for ch in str(data.get("phone") or "") if ch.isdigit() or ch == "+")
        if phone.startswith("+62"):
            phone = "0" + phone[3:]
        elif phone.startswith("62"):
            phone = "0" + phone[2:]
        if phone and (not phone.startswith("08") or not 10 <= len(phone) <= 13):
            p.error(
                "phone",
                "bad_phone",
                f"Nomor HP {data.get('phone')!r} tidak valid / invalid phone",
                row,
            )
        out["phone"] = phone
    if not partial or "nik" in data:
        sex = out.get("sex") or None
        born = out.get("birth_date")
        out["nik"], problems = validate_nik(
            data.get("nik"), row=row, sex=sex, birth_date=born, region_exists=region_exists
        )
        p.items.extend(problems)
    born, died = out.get("birth_date"), out.get("deceased_on")
    if born and died and died < born:
        p.error(
            "deceased_on", "before_birth", "Tanggal wafat sebelum lahir / death before birth", row
        )
    if out.get("pregnant") and out.get("sex") == "M":
        p.error(
            "pregnant", "inconsistent", "Laki-laki tidak bisa hamil / a man cannot be pregnant", row
        )
    allowed = set(PERSON_EDITABLE) | {"nik"}
    for name in sorted(set(data) - allowed):
        p.error(name, "unknown_field", f"Kolom {name!r} tidak dikenal / unknown field", row)
    return out
