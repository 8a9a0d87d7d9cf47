"""How raw proxies become model columns (the design matrix), fitted on training data only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tepat.targeting.spec import Proxy

F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]
MIN_LEVEL_SHARE = 0.002  # rarer categorical levels fold into the reference level


@dataclass
class Design:
    """How raw proxies become columns: numeric fill values, categorical levels, areas."""

    proxies: list[Proxy]
    fill: dict[str, float]  # numeric proxy -> training median (after transform)
    levels: dict[str, list[str]]  # categorical proxy -> non-reference levels, in column order
    reference: dict[str, str]
    areas: list[str]  # area effects (non-reference areas); empty when off
    area_prefix: int  # village-code prefix length the areas are (0: none)

    @property
    def names(self) -> list[str]:
        out: list[str] = []
        for x in self.proxies:
            if x.kind == "numeric":
                out.append(x.name)
            else:
                out.extend(f"{x.name}={lv}" for lv in self.levels[x.name])
        out.extend(f"area={a}" for a in self.areas)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "proxies": [{"name": x.name, "kind": x.kind, "log": x.log} for x in self.proxies],
            "fill": self.fill,
            "levels": self.levels,
            "reference": self.reference,
            "areas": self.areas,
            "area_prefix": self.area_prefix,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Design:
        proxies = [Proxy(x["name"], x["name"], x["kind"], bool(x["log"])) for x in d["proxies"]]
        return cls(
            proxies, d["fill"], d["levels"], d["reference"], d["areas"], int(d["area_prefix"])
        )


def _transform(x: Proxy, values: npt.NDArray[Any]) -> F64:
    v = np.asarray(values, dtype=np.float64)
    return np.log1p(np.clip(v, 0, None)) if x.log else v


def design_fit(
    proxies: list[Proxy],
    raw: Mapping[str, npt.NDArray[Any]],
    weight: F64,
    area: npt.NDArray[np.str_],
    *,
    area_effects: bool,
) -> Design:
    fill: dict[str, float] = {}
    levels: dict[str, list[str]] = {}
    reference: dict[str, str] = {}
    total = float(weight.sum())
    for x in proxies:
        if x.kind == "numeric":
            v = _transform(x, raw[x.name])
            ok = ~np.isnan(v)
            fill[x.name] = float(np.median(v[ok])) if ok.any() else 0.0
        else:
            uniq, inv = np.unique(raw[x.name], return_inverse=True)
            share = np.bincount(inv, weights=weight, minlength=len(uniq)) / total
            ref = str(uniq[int(np.argmax(share))])
            reference[x.name] = ref
            levels[x.name] = [
                str(u)
                for u, s in zip(uniq, share, strict=True)
                if s >= MIN_LEVEL_SHARE and u != ref
            ]
    areas: list[str] = []
    prefix = 0
    if area_effects and len(area):
        uniq, counts = np.unique(area, return_counts=True)
        ref = str(uniq[int(np.argmax(counts))])
        areas = [str(a) for a in uniq if a != ref and a != ""]
    if len(area):
        lengths = {len(a) for a in np.unique(area) if a}
        prefix = lengths.pop() if len(lengths) == 1 else 0
    return Design(list(proxies), fill, levels, reference, areas, prefix)


def design_matrix(
    design: Design, raw: Mapping[str, npt.NDArray[Any]], area: npt.NDArray[np.str_] | None
) -> F64:
    n = len(next(iter(raw.values())))
    cols: list[F64] = []
    for x in design.proxies:
        if x.kind == "numeric":
            v = _transform(x, raw[x.name])
            cols.append(np.where(np.isnan(v), design.fill[x.name], v))
        else:
            values = raw[x.name]
            cols.extend((values == lv).astype(np.float64) for lv in design.levels[x.name])
    if design.areas:
        a = area if area is not None else np.full(n, "", dtype="U16")
        cols.extend((a == code).astype(np.float64) for code in design.areas)
    return np.column_stack(cols) if cols else np.zeros((n, 0))
