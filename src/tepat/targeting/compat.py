"""Does a PMT fit the registry it will score? Checked at calibration and again before scoring.

A model is calibrated on a survey and applied to the registry. Whatever the survey holds that the
registry does not (a proxy it lacks, a categorical proxy declared numeric, category codes of its
own, area codes that are no prefix of the village code) would otherwise be dropped at scoring
without a word: every score computed, that proxy or every area effect contributing nothing.

- `check_spec_against_registry(spec, survey)`: at calibration, before fitting. Problems are dicts
  {"level": "error" | "warning", "field", "code", "message", "count"}; `require_compatible`
  raises the errors and returns the warnings (for the model card).
- `check_model_against_registry(model)`: before scoring, for models saved before these checks
  existed (a numeric floor_material crashed `pmt score` with a traceback).

No database access except `registry_regions` (which survey areas are registry regions).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from tepat.core.errors import FieldProblem, ValidationFailed
from tepat.targeting.features import feature_kind, registry_vocabulary

VILLAGE_CODE_DIGITS = 10
REGION_LEVELS = (2, 4, 6, 10)  # Kemendagri: province, regency, district, village
SHOWN = 8  # examples named in a message


def _problem(level: str, field: str, code: str, message: str, count: int) -> dict[str, Any]:
    return {"level": level, "field": field, "code": code, "message": message, "count": count}


def area_effects_on(spec: Any) -> bool:
    """Whether the spec asks for area effects (`area_effects` is "fixed" / "random", or the
    legacy `true`), over an area column."""
    value = getattr(spec, "area_effects", False)
    on = value not in (False, None, "", "none")
    return bool(on and getattr(spec, "area", ""))


def _levels_text(counts: Mapping[str, int]) -> str:
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{k!r} ({v})" for k, v in items[:SHOWN])
    more = f", +{len(items) - SHOWN}" if len(items) > SHOWN else ""
    return shown + more


def check_spec_against_registry(
    spec: Any, survey: Any, *, region_codes: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """Every reason the model calibrated from `spec` on `survey` could not score the registry
    as it scores the survey. `region_codes`: the registry's region codes among the survey's
    areas (None: looked up in the database)."""
    out: list[dict[str, Any]] = []
    for proxy in spec.proxies:
        out.extend(_check_proxy(proxy, survey.proxies.get(proxy.name)))
    if area_effects_on(spec):
        out.extend(_check_areas(spec, np.asarray(survey.area, dtype=object), region_codes))
    return out


def _check_proxy(proxy: Any, values: npt.NDArray[Any] | None) -> list[dict[str, Any]]:
    name, where = proxy.name, f"proxies.{proxy.name}"
    kind = feature_kind(name)
    if not getattr(proxy, "registry", True):
        return [
            _problem(
                "warning", where, "not_in_registry",
                f"proksi {name} hanya ada di survei (registry = false): model ini tidak dapat "
                f"menskor registri / {name} is a survey-only proxy (registry = false): this model "
                "will not score the registry",
                0,
            )
        ]  # fmt: skip
    if kind is None:
        return [
            _problem(
                "error", where, "unknown_proxy",
                f"registri tidak punya proksi {name!r}; gunakan nama fitur registri atau tandai "
                f"`registry = false` (model tidak akan menskor registri) / the registry has no "
                f"proxy {name!r}: use a registry feature name ({_names()}) or mark it "
                "`registry = false` (the model will then not score the registry)",
                0,
            )
        ]  # fmt: skip
    if kind != proxy.kind:
        hint = (
            "kodenya teks, mis. 'earth' / its codes are text, e.g. 'earth'"
            if kind == "categorical"
            else "nilainya angka / its values are numbers"
        )
        return [
            _problem(
                "error", where, "kind_mismatch",
                f"proksi {name} di registri berjenis {kind}, spesifikasi menyatakan {proxy.kind}; "
                f"tulis kind = \"{kind}\" / the registry holds {name} as {kind} ({hint}), the spec "
                f"declares it {proxy.kind}: write kind = \"{kind}\"",
                0,
            )
        ]  # fmt: skip
    if kind != "categorical" or values is None:
        return []
    vocabulary = registry_vocabulary(name)
    labels, counts = np.unique(np.asarray(values, dtype=str), return_counts=True)
    unmatched = {
        str(lv): int(c) for lv, c in zip(labels, counts, strict=True) if lv not in vocabulary
    }
    if not unmatched:
        return []
    codes = ", ".join(repr(v) for v in vocabulary if v)
    example = ", ".join(f'"{lv}" = "..."' for lv in list(unmatched)[:3])
    return [
        _problem(
            "error", where, "unknown_levels",
            f"{sum(unmatched.values())} baris berkode {name} yang tidak dikenal registri: "
            f"{_levels_text(unmatched)}; tambahkan recode = {{ {example} }} ke kode registri "
            f"({codes}) / {sum(unmatched.values())} rows carry {name} codes the registry does "
            f"not use: {_levels_text(unmatched)}; add recode = {{ {example} }} mapping them to "
            f"the registry's codes ({codes}), else they would score as nothing",
            sum(unmatched.values()),
        )
    ]  # fmt: skip


def _names() -> str:
    from tepat.targeting.features import ALL_FEATURES

    return ", ".join(ALL_FEATURES)


def area_level_of(spec: Any, area: npt.NDArray[Any]) -> int:
    """The digits of the village code the survey's area codes stand for: `area_level` when the
    spec sets it, else the one length every code has (0 when there is none)."""
    level = int(getattr(spec, "area_level", 0) or 0)
    if level:
        return level
    lengths = {len(str(a)) for a in np.unique(area) if a}
    return lengths.pop() if len(lengths) == 1 else 0


def _check_areas(
    spec: Any, area: npt.NDArray[Any], region_codes: Collection[str] | None
) -> list[dict[str, Any]]:
    where = f"survey.area ({spec.area})"
    out: list[dict[str, Any]] = []
    codes, counts = np.unique(area.astype(str), return_counts=True)
    rows = dict(zip((str(c) for c in codes), (int(n) for n in counts), strict=True))
    blank = rows.pop("", 0)
    if blank:
        out.append(
            _problem(
                "warning", where, "area_missing",
                f"{blank} baris tanpa kode wilayah: tanpa efek wilayah / {blank} rows have no "
                "area code: they get no area effect",
                blank,
            )
        )  # fmt: skip
    bad = {c: n for c, n in rows.items() if not c.isdigit()}
    if bad:
        out.append(
            _problem(
                "error", where, "area_not_digits",
                f"kode wilayah harus angka, awalan kode desa 10 digit: {_levels_text(bad)} / "
                f"area codes must be digits, a prefix of the 10-digit village code: "
                f"{sum(bad.values())} rows do not: {_levels_text(bad)}",
                sum(bad.values()),
            )
        )  # fmt: skip
    digits = {c: n for c, n in rows.items() if c.isdigit()}
    by_length: Counter[int] = Counter()
    for c, n in digits.items():
        by_length[len(c)] += n
    lengths = ", ".join(
        f"{k} digit: {v} baris/rows, {sum(1 for c in digits if len(c) == k)} wilayah/areas"
        for k, v in sorted(by_length.items())
    )
    level = int(getattr(spec, "area_level", 0) or 0)
    if not level and len(by_length) > 1:
        out.append(
            _problem(
                "error", where, "area_lengths",
                f"kode wilayah berbeda panjang ({lengths}); tetapkan survey.area_level (digit kode "
                f"desa yang dipegang kolom ini) / area codes have different lengths ({lengths}): "
                "set survey.area_level (how many digits of the village code the column holds), "
                "else the area effects could not be matched to registry villages",
                sum(by_length.values()),
            )
        )  # fmt: skip
        return out
    level = level or (next(iter(by_length)) if by_length else 0)
    if not level:
        return out
    if level > VILLAGE_CODE_DIGITS:
        out.append(
            _problem(
                "error", where, "area_too_long",
                f"kode wilayah {level} digit lebih panjang dari kode desa (10) / {level}-digit "
                "area codes are longer than a village code (10 digits): no prefix of it",
                sum(by_length.values()),
            )
        )  # fmt: skip
        return out
    short = {c: n for c, n in digits.items() if len(c) < level}
    if short:
        out.append(
            _problem(
                "error", where, "area_too_short",
                f"kode wilayah lebih pendek dari area_level = {level}: {_levels_text(short)} / "
                f"{sum(short.values())} rows have area codes shorter than area_level = {level}: "
                f"{_levels_text(short)}",
                sum(short.values()),
            )
        )  # fmt: skip
    long = {c: n for c, n in digits.items() if len(c) > level}
    if long:
        out.append(
            _problem(
                "error", where, "area_too_long",
                f"{sum(long.values())} baris berkode wilayah lebih dari area_level = {level} digit "
                f"({lengths}); efeknya tidak akan cocok dengan rumah tangga registri mana pun; isi "
                f"kolom dengan kode {level} digit / {sum(long.values())} rows have area codes "
                f"longer than area_level = {level} ({lengths}): their effects would match no "
                f"registry household; the column must hold {level}-digit codes",
                sum(long.values()),
            )
        )  # fmt: skip
    if level not in REGION_LEVELS:
        out.append(
            _problem(
                "warning", where, "area_level",
                f"{level} digit bukan tingkat wilayah Kemendagri {REGION_LEVELS} / {level} digits "
                f"is not a Kemendagri region level {REGION_LEVELS} (province, regency, district, "
                "village)",
                0,
            )
        )  # fmt: skip
    areas = sorted(c for c in digits if len(c) == level)
    known = set(registry_regions(areas) if region_codes is None else region_codes)
    if known:  # an empty registry (a fresh install) says nothing about the codes
        missing = {a: digits[a] for a in areas if a not in known}
        if missing:
            out.append(
                _problem(
                    "warning", where, "area_not_in_registry",
                    f"{len(missing)} dari {len(areas)} wilayah survei bukan wilayah registri; efek "
                    f"wilayahnya tidak terpakai saat skoring: {_levels_text(missing)} / "
                    f"{len(missing)} of {len(areas)} survey areas are not registry regions, so "
                    f"their effects will score no household: {_levels_text(missing)}",
                    sum(missing.values()),
                )
            )  # fmt: skip
    return out


def registry_regions(codes: list[str]) -> list[str]:
    """Which of `codes` are regions of the registry (none when the registry has no regions)."""
    from tepat.regions.models import Region

    if not Region.objects.exists():
        return []
    found: list[str] = []
    for start in range(0, len(codes), 900):
        found.extend(
            Region.objects.filter(code__in=codes[start : start + 900]).values_list(
                "code", flat=True
            )
        )
    return found


def require_compatible(
    spec: Any, survey: Any, *, region_codes: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """`check_spec_against_registry`, raising every error at once (ValidationFailed naming each
    field); returns the warnings, for the model card."""
    problems = check_spec_against_registry(spec, survey, region_codes=region_codes)
    raise_errors(problems)
    return [p for p in problems if p["level"] != "error"]


def raise_errors(problems: list[dict[str, Any]]) -> None:
    errors = [
        FieldProblem(p["field"], p["code"], p["message"]) for p in problems if p["level"] == "error"
    ]
    if errors:
        raise ValidationFailed(errors)


def check_model_against_registry(model: Any) -> list[dict[str, Any]]:
    """Before scoring: every proxy of a fitted model (any format) must be a registry feature of
    the same kind, and the model must be meant for scoring. Errors name the proxy (the field is
    the proxy's name)."""
    out: list[dict[str, Any]] = []
    if not getattr(model, "scoring", True):
        out.append(
            _problem(
                "error", "model", "not_for_scoring",
                "model ini memakai proksi yang hanya ada di survei (registry = false), jadi tidak "
                "dapat menskor registri / this model uses survey-only proxies (registry = false): "
                "it cannot score the registry; calibrate one without them to score",
                0,
            )
        )  # fmt: skip
    for proxy in model.design.proxies:
        kind = feature_kind(proxy.name)
        if not getattr(proxy, "registry", True):
            continue  # reported above through `scoring`
        if kind is None:
            out.append(
                _problem(
                    "error", proxy.name, "unknown_proxy",
                    f"registri tidak punya proksi {proxy.name!r} / the registry has no such proxy "
                    f"{proxy.name!r}; the model cannot score it",
                    0,
                )
            )  # fmt: skip
        elif kind != proxy.kind:
            out.append(
                _problem(
                    "error", proxy.name, "kind_mismatch",
                    f"model ini memperlakukan {proxy.name} sebagai {proxy.kind}, registri "
                    f"menyimpannya sebagai {kind}; kalibrasi ulang dengan kind = \"{kind}\" / the "
                    f"model treats {proxy.name} as {proxy.kind} but the registry holds it as "
                    f"{kind}: recalibrate with kind = \"{kind}\"",
                    0,
                )
            )  # fmt: skip
    return out
