"""How raw proxies become model columns (the design matrix), fitted on training data only.

Everything a column needs at scoring time is learnt from the training rows and stored in the
`Design` (plain JSON): the fill value of each numeric proxy, the categorical levels (full labels,
never truncated), which rare levels were folded into the reference, the spline knots, which
proxies carry a missing-value indicator, and the fixed area effects.

Columns, in this order (`Design.names`):

- per proxy, in spec order:
  - numeric `x`: `x` (log1p when `log`; missing values filled with the training median), then
    `x:missing` (1 where the value was missing; only for proxies with missing training values
    when missing indicators are on), `x^2` ((x - median)^2, centred for conditioning), and
    `x:spline1..` (restricted natural cubic spline, below);
  - categorical `x`: `x=level` for each level but the reference (the most common level);
- interactions `a*b` = (a - median a) * (b - median b), between numeric proxies;
- fixed area effects `area=code` for each area but the reference (the most common area).

Splines are Harrell's restricted cubic splines (Regression Modeling Strategies, 2nd ed., 2.4.5):
with knots t1 < ... < tK, K - 2 columns

    b_j(x) = [(x - t_j)+^3 - (x - t_{K-1})+^3 (t_K - t_j) / (t_K - t_{K-1})
              + (x - t_K)+^3 (t_{K-1} - t_j) / (t_K - t_{K-1})] / (t_K - t_1)^2,

which with the linear column `x` span the natural cubic splines: cubic between knots, linear
beyond the outer ones. Knots sit at Harrell's weighted quantiles of the training values.

Rare categorical levels (weighted share below MIN_LEVEL_SHARE = 0.2 %) get no column of their
own: they share the reference level's. This is never silent: `Design.folded` lists each folded
level with its training row count and `Design.warnings` says so for the model card. A level seen at
scoring that training never saw also scores as the reference; `unseen_levels` counts them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from tepat.core.errors import Problems
from tepat.targeting.evaluation import weighted_quantile
from tepat.targeting.spec import Proxy

F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]
MIN_LEVEL_SHARE = 0.002  # rarer categorical levels fold into the reference level (see above)
# Harrell's knot placements (quantiles) for 3..7 knots; more knots: evenly from 0.05 to 0.95.
KNOT_QUANTILES = {
    3: (0.10, 0.50, 0.90),
    4: (0.05, 0.35, 0.65, 0.95),
    5: (0.05, 0.275, 0.50, 0.725, 0.95),
    6: (0.05, 0.23, 0.41, 0.59, 0.77, 0.95),
    7: (0.025, 0.1833, 0.3417, 0.50, 0.6583, 0.8167, 0.975),
}
MAX_KNOTS = 10


@dataclass
class Design:
    """How raw proxies become columns (see the module docstring for the column layout)."""

    proxies: list[Proxy]
    fill: dict[str, float]  # numeric proxy -> training median (after transform)
    levels: dict[str, list[str]]  # categorical proxy -> non-reference levels, in column order
    reference: dict[str, str]
    areas: list[str]  # fixed area effects (non-reference areas); empty when off
    area_prefix: int  # village-code prefix length the areas are (0: none or unknown)
    missing: list[str] = field(default_factory=list)  # numeric proxies with a `:missing` column
    squares: list[str] = field(default_factory=list)
    interactions: list[tuple[str, str]] = field(default_factory=list)
    splines: dict[str, list[float]] = field(default_factory=dict)  # proxy -> knots
    folded: dict[str, dict[str, int]] = field(default_factory=dict)  # proxy -> {level: rows}
    missing_count: dict[str, int] = field(default_factory=dict)  # numeric proxy -> rows missing
    area_reference: str = ""  # the area without a column (fixed effects)
    warnings: list[dict[str, Any]] = field(default_factory=list)  # for the model card

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns()]

    def columns(self) -> list[tuple[str, str]]:
        """(column name, what it belongs to: a proxy name, `a*b`, or `area`) in matrix order."""
        out: list[tuple[str, str]] = []
        for x in self.proxies:
            if x.kind == "numeric":
                out.append((x.name, x.name))
                if x.name in self.missing:
                    out.append((f"{x.name}:missing", x.name))
                if x.name in self.squares:
                    out.append((f"{x.name}^2", x.name))
                knots = self.splines.get(x.name, [])
                out.extend((f"{x.name}:spline{j + 1}", x.name) for j in range(len(knots) - 2))
            else:
                out.extend((f"{x.name}={lv}", x.name) for lv in self.levels[x.name])
        for a, b in self.interactions:
            out.append((f"{a}*{b}", f"{a}*{b}"))
        out.extend((f"area={code}", "area") for code in self.areas)
        return out

    def column_groups(self) -> dict[str, list[int]]:
        """Column indices of each proxy (with its transforms), interaction and `area`: what a
        contribution or a coefficient table sums over."""
        out: dict[str, list[int]] = {}
        for j, (_, group) in enumerate(self.columns()):
            out.setdefault(group, []).append(j)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "proxies": [_proxy_dict(x) for x in self.proxies],
            "fill": self.fill,
            "levels": self.levels,
            "reference": self.reference,
            "areas": self.areas,
            "area_prefix": self.area_prefix,
            "area_reference": self.area_reference,
            "missing": self.missing,
            "missing_count": self.missing_count,
            "squares": self.squares,
            "interactions": [list(pair) for pair in self.interactions],
            "splines": self.splines,
            "folded": self.folded,
            "warnings": self.warnings,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Design:
        """Reads what `as_dict` writes, and the older format (proxies, fill, levels, reference,
        areas, area_prefix only) of models saved before transforms existed."""
        return cls(
            proxies=[_proxy_from(x) for x in d["proxies"]],
            fill={k: float(v) for k, v in d["fill"].items()},
            levels={k: [str(lv) for lv in v] for k, v in d["levels"].items()},
            reference={k: str(v) for k, v in d["reference"].items()},
            areas=[str(a) for a in d["areas"]],
            area_prefix=int(d["area_prefix"]),
            missing=list(d.get("missing", [])),
            squares=list(d.get("squares", [])),
            interactions=[(str(a), str(b)) for a, b in d.get("interactions", [])],
            splines={k: [float(t) for t in v] for k, v in d.get("splines", {}).items()},
            folded={
                k: {str(lv): int(c) for lv, c in v.items()} for k, v in d.get("folded", {}).items()
            },
            missing_count={k: int(v) for k, v in d.get("missing_count", {}).items()},
            area_reference=str(d.get("area_reference", "")),
            warnings=list(d.get("warnings", [])),
        )


def _proxy_dict(x: Proxy) -> dict[str, Any]:
    out: dict[str, Any] = {"name": x.name, "column": x.column, "kind": x.kind, "log": x.log}
    if not getattr(x, "registry", True):
        out["registry"] = False
    return out


def _proxy_from(d: Mapping[str, Any]) -> Proxy:
    proxy = Proxy(str(d["name"]), str(d.get("column", d["name"])), str(d["kind"]), bool(d["log"]))
    if "registry" in d and "registry" in {f.name for f in dataclasses.fields(Proxy)}:
        proxy = dataclasses.replace(proxy, registry=bool(d["registry"]))
    return proxy


def _transform(x: Proxy, values: npt.NDArray[Any]) -> F64:
    v = np.asarray(values, dtype=np.float64)
    return np.log1p(np.clip(v, 0, None)) if x.log else v


def _column(raw: Mapping[str, npt.NDArray[Any]], name: str) -> npt.NDArray[Any]:
    try:
        return raw[name]
    except KeyError:
        raise KeyError(f"proxy {name!r} is not in the data (have {sorted(raw)})") from None


def _codes(values: npt.NDArray[Any], labels: Sequence[str]) -> npt.NDArray[np.intp]:
    """Index of each value in `labels`, -1 when absent; a missing value (None/NaN) is "".

    Fixed-width text (numpy "U"): one vectorised comparison per label (milliseconds each; turning
    a million of them into Python strings would cost half a second). Python objects: hashing
    (pandas.factorize over the rows, then a dict over the distinct values), linear in the rows
    whatever the number of levels.
    """
    if values.dtype.kind in "US":
        out = np.full(len(values), -1, dtype=np.intp)
        for k, label in enumerate(labels):
            out[values == label] = k
        return out
    import pandas as pd

    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    position = {lv: k for k, lv in enumerate(labels)}
    table = np.array(
        [position.get(str(u), -1) for u in uniques] + [position.get("", -1)], dtype=np.intp
    )
    return np.asarray(table[codes], dtype=np.intp)  # code -1 (missing) reads the last entry


def _value_counts(values: npt.NDArray[Any], weight: F64 | None = None) -> dict[str, float]:
    import pandas as pd

    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    labels = [str(u) for u in uniques] + [""]
    w = np.ones(len(codes)) if weight is None else weight
    sums = np.bincount(np.where(codes < 0, len(uniques), codes), weights=w, minlength=len(labels))
    out: dict[str, float] = {}
    for label, s in zip(labels, sums.tolist(), strict=True):
        if s:
            out[label] = out.get(label, 0.0) + s
    return out


def _spline_basis(v: F64, knots: Sequence[float]) -> F64:
    t = np.asarray(knots, dtype=np.float64)
    k = len(t)
    norm = (t[-1] - t[0]) ** 2
    tail_a = np.clip(v - t[-2], 0, None) ** 3
    tail_b = np.clip(v - t[-1], 0, None) ** 3
    out = np.empty((len(v), k - 2))
    for j in range(k - 2):
        out[:, j] = (
            np.clip(v - t[j], 0, None) ** 3
            - tail_a * (t[-1] - t[j]) / (t[-1] - t[-2])
            + tail_b * (t[-2] - t[j]) / (t[-1] - t[-2])
        ) / norm
    return out


def _knots(v: F64, w: F64, n_knots: int) -> list[float]:
    qs = KNOT_QUANTILES.get(n_knots) or tuple(np.linspace(0.05, 0.95, n_knots).tolist())
    return sorted({weighted_quantile(v, w, q) for q in qs})


def _warning(field_name: str, code: str, message: str, count: int) -> dict[str, Any]:
    return {"field": field_name, "code": code, "message": message, "count": count, "rows": []}


def _fixed_effects(area_effects: bool | str | None) -> bool:
    return area_effects is True or area_effects == "fixed"


def design_fit(
    proxies: Sequence[Proxy] | Any,
    raw: Mapping[str, npt.NDArray[Any]],
    weight: F64,
    area: npt.NDArray[Any] | None = None,
    *,
    area_effects: bool | str | None = None,
    area_level: int | None = None,
    missing_indicators: bool | None = None,
    squares: Sequence[str] | None = None,
    interactions: Sequence[Sequence[str]] | None = None,
    splines: Mapping[str, int] | None = None,
) -> Design:
    """Learn the design from training rows.

    `proxies` is a list of Proxy (the old call, `design_fit(spec.proxies, raw, w, area,
    area_effects=...)`) or a Spec, whose `area_effects`, `area_level`, `missing_indicators`,
    `squares`, `interactions` and `splines` are then the defaults; a keyword given here wins.
    `area_effects`: True or "fixed" adds fixed area columns; False, "none" and "random" add none
    (random effects are the estimator's). `area_level`: the village-code prefix length the area
    codes are (0: inferred when all codes have one length).

    Raises ValidationFailed when a feature names a proxy that is not numeric or not in the spec.
    """
    spec = None if isinstance(proxies, Sequence) else proxies
    proxy_list: list[Proxy] = list(proxies if spec is None else spec.proxies)

    def option(value: Any, name: str, default: Any) -> Any:
        return value if value is not None else getattr(spec, name, default)

    fixed = _fixed_effects(option(area_effects, "area_effects", False))
    level = int(option(area_level, "area_level", 0) or 0)
    indicators = bool(option(missing_indicators, "missing_indicators", False))
    sq = [str(s) for s in option(squares, "squares", [])]
    inter = [(str(a), str(b)) for a, b in option(interactions, "interactions", [])]
    spl = {str(k): int(v) for k, v in dict(option(splines, "splines", {})).items()}
    _check_features(proxy_list, sq, inter, spl)

    w = np.asarray(weight, dtype=np.float64)
    total = float(w.sum())
    d = Design(proxy_list, {}, {}, {}, [], 0)
    for x in proxy_list:
        values = _column(raw, x.name)
        if x.kind == "numeric":
            _fit_numeric(
                d, x, values, w, indicators=indicators, square=x.name in sq, knots=spl.get(x.name)
            )
        else:
            _fit_categorical(d, x, values, w, total)
    d.interactions = inter
    if area is not None and len(area):
        _fit_area(d, np.asarray(area), fixed=fixed, level=level)
    return d


def _check_features(
    proxies: list[Proxy],
    squares: list[str],
    interactions: list[tuple[str, str]],
    splines: dict[str, int],
) -> None:
    p = Problems()
    numeric = {x.name for x in proxies if x.kind == "numeric"}
    allowed = sorted(numeric)

    def check(where: str, name: str) -> None:
        if name not in numeric:
            p.error(
                where,
                "not_numeric_proxy",
                f"`{name}` bukan proksi numerik / is not a numeric proxy; allowed {allowed}",
            )

    for name in squares:
        check("features.squares", name)
    for a, b in interactions:
        check("features.interactions", a)
        check("features.interactions", b)
        if a == b:
            p.error(
                "features.interactions",
                "same_proxy",
                f"`{a}*{a}` adalah kuadrat; pakai squares / is a square: use `squares`",
            )
    for name, n_knots in splines.items():
        check("features.splines", name)
        if not 3 <= n_knots <= MAX_KNOTS:
            p.error(
                "features.splines",
                "knots",
                f"`{name}`: jumlah knot {n_knots} harus 3..{MAX_KNOTS} / knots must be "
                f"3..{MAX_KNOTS}",
            )
    p.raise_if_errors()


def _fit_numeric(
    d: Design,
    x: Proxy,
    values: npt.NDArray[Any],
    w: F64,
    *,
    indicators: bool,
    square: bool,
    knots: int | None,
) -> None:
    v = _transform(x, values)
    ok = ~np.isnan(v)
    n_missing = int((~ok).sum())
    fill = float(np.median(v[ok])) if ok.any() else 0.0
    d.fill[x.name] = fill
    where = f"proxies.{x.name}"
    if n_missing:
        d.missing_count[x.name] = n_missing
        pct = f"{100 * n_missing / len(v):.1f} %"
        if not ok.any():
            d.warnings.append(
                _warning(
                    where,
                    "all_missing",
                    f"semua {n_missing} nilai kosong; proksi tanpa pengaruh / all {n_missing} "
                    "values missing: the proxy has no effect",
                    n_missing,
                )
            )
        elif indicators:
            d.missing.append(x.name)
            d.warnings.append(
                _warning(
                    where,
                    "missing_indicator",
                    f"{n_missing} baris ({pct}) kosong: diisi median {fill:.4g} dan ditandai "
                    f"kolom {x.name}:missing / {n_missing} rows ({pct}) missing: filled with the "
                    f"median and flagged by {x.name}:missing",
                    n_missing,
                )
            )
        else:
            d.warnings.append(
                _warning(
                    where,
                    "missing_filled",
                    f"{n_missing} baris ({pct}) kosong: diisi median {fill:.4g}; "
                    "missing_indicators = true agar model belajar darinya / "
                    f"{n_missing} rows ({pct}) missing: filled with the median; set "
                    "missing_indicators = true to let the model learn from it",
                    n_missing,
                )
            )
    distinct = np.unique(v[ok]) if ok.any() else np.zeros(0)
    if square:
        if len(distinct) > 2:
            d.squares.append(x.name)
        else:
            d.warnings.append(
                _warning(
                    "features.squares",
                    "too_few_values",
                    f"`{x.name}` hanya {len(distinct)} nilai berbeda; kuadrat tidak menambah apa "
                    f"pun, dilewati / has only {len(distinct)} distinct values: its square adds "
                    "nothing and is left out",
                    len(distinct),
                )
            )
    if knots:
        placed = _knots(v[ok], w[ok], knots) if ok.any() else []
        if len(placed) >= 3:
            d.splines[x.name] = placed
            if len(placed) < knots:
                d.warnings.append(
                    _warning(
                        "features.splines",
                        "fewer_knots",
                        f"`{x.name}`: {len(placed)} knot berbeda dari {knots} (nilai kembar) / "
                        f"{len(placed)} distinct knots of {knots} (tied values)",
                        len(placed),
                    )
                )
        else:
            d.warnings.append(
                _warning(
                    "features.splines",
                    "too_few_values",
                    f"`{x.name}`: kurang dari 3 knot berbeda; spline dilewati / fewer than 3 "
                    "distinct knots: the spline is left out",
                    len(placed),
                )
            )


def _fit_categorical(d: Design, x: Proxy, values: npt.NDArray[Any], w: F64, total: float) -> None:
    weights = _value_counts(values, w)
    rows = _value_counts(values)
    ref = max(sorted(weights), key=lambda lv: weights[lv]) if weights else ""
    d.reference[x.name] = ref
    kept, folded = [], {}
    for lv in sorted(weights):
        if lv == ref:
            continue
        if total > 0 and weights[lv] / total < MIN_LEVEL_SHARE:
            folded[lv] = int(rows[lv])
        else:
            kept.append(lv)
    d.levels[x.name] = kept
    if folded:
        d.folded[x.name] = folded
        n_rows = sum(folded.values())
        shown = ", ".join(f"{lv or '(kosong)'} ({c})" for lv, c in list(folded.items())[:5])
        d.warnings.append(
            _warning(
                f"proxies.{x.name}",
                "rare_levels_folded",
                f"{len(folded)} kategori langka (< {100 * MIN_LEVEL_SHARE:g} %, {n_rows} baris) "
                f"digabung ke acuan '{ref}' / {len(folded)} rare levels ({n_rows} rows) share "
                f"the reference level's effect: {shown}{' ...' if len(folded) > 5 else ''}",
                n_rows,
            )
        )


def _fit_area(d: Design, area: npt.NDArray[Any], *, fixed: bool, level: int) -> None:
    counts = _value_counts(area)
    codes = sorted(c for c in counts if c)
    lengths = {len(c) for c in codes}
    if level:
        d.area_prefix = level
    elif len(lengths) == 1:
        d.area_prefix = lengths.pop()
    elif fixed and codes:
        d.warnings.append(
            _warning(
                "survey.area_level",
                "area_lengths_differ",
                f"kode wilayah {len(codes)} area beda panjang ({sorted(lengths)} digit); "
                "efek wilayah tak dapat dicocokkan ke registri tanpa survey.area_level / area "
                "codes differ in length: area effects cannot be matched to the registry without "
                "survey.area_level",
                len(codes),
            )
        )
    if fixed and codes:
        ref = max(sorted(counts), key=lambda c: counts[c])
        d.area_reference = ref
        d.areas = [c for c in codes if c != ref]


def design_matrix(
    design: Design, raw: Mapping[str, npt.NDArray[Any]], area: npt.NDArray[Any] | None
) -> F64:
    """The model columns of `raw` (one array per proxy) in `design.names` order, vectorised:
    a handful of array operations per column, never a Python step per row."""
    n = len(next(iter(raw.values()))) if raw else (0 if area is None else len(area))
    names = design.columns()
    # Column-major: each column is one contiguous block of memory, so writing it is a plain
    # copy (row-major writes one value per cache line: measured 4x slower at 1M x 76).
    X = np.zeros((n, len(names)), order="F")
    centred: dict[str, F64] = {}
    j = 0
    for x in design.proxies:
        values = _column(raw, x.name)
        if x.kind == "numeric":
            v = _transform(x, values)
            miss = np.isnan(v)
            v = np.where(miss, design.fill[x.name], v)
            X[:, j] = v
            j += 1
            if x.name in design.missing:
                X[:, j] = miss
                j += 1
            centred[x.name] = v - design.fill[x.name]
            if x.name in design.squares:
                X[:, j] = centred[x.name] ** 2
                j += 1
            knots = design.splines.get(x.name, [])
            if knots:
                X[:, j : j + len(knots) - 2] = _spline_basis(v, knots)
                j += len(knots) - 2
        else:
            levels = design.levels[x.name]
            code = _codes(values, levels)
            for k in range(len(levels)):
                X[:, j + k] = code == k
            j += len(levels)
    for a, b in design.interactions:
        X[:, j] = centred[a] * centred[b]
        j += 1
    if design.areas:
        if area is not None:
            code = _codes(area, design.areas)
            for k in range(len(design.areas)):
                X[:, j + k] = code == k
        j += len(design.areas)
    assert j == len(names)
    return X


def unseen_levels(design: Design, raw: Mapping[str, npt.NDArray[Any]]) -> dict[str, dict[str, int]]:
    """Categorical values in `raw` that training never saw (they score as the reference level):
    proxy -> {value: rows}. Levels folded at training are known, not unseen. Empty when none."""
    out: dict[str, dict[str, int]] = {}
    for x in design.proxies:
        if x.kind != "categorical" or x.name not in raw:
            continue
        known = {*design.levels[x.name], design.reference[x.name], *design.folded.get(x.name, {})}
        counts = _value_counts(raw[x.name])
        unseen = {lv: int(c) for lv, c in sorted(counts.items()) if lv not in known}
        if unseen:
            out[x.name] = unseen
    return out
