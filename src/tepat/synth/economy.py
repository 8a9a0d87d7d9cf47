"""Living standards: housing and asset proxies, and a latent per-capita consumption.

A latent household wealth (with district and village effects) drives the proxies, each with its
own noise; consumption is then log-linear in the proxies and household demographics plus a
regional effect and noise, scaled so a proxy-means test explains about half its variance, and
shifted so that about 9.5 % of persons fall under the poverty line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tepat.registry import choices
from tepat.synth import codes as c
from tepat.synth.households import Composition
from tepat.synth.persons import Persons

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
B = npt.NDArray[np.bool_]

POVERTY_LINE = 600_000  # rupiah per capita per month
POOR_SHARE = 0.095  # share of persons under the line
TARGET_PMT_R2 = 0.5

# Ordered from poorest to richest, with the share of households in each category.
FLOOR = (
    ("earth", 0.06),
    ("bamboo", 0.01),
    ("wood", 0.05),
    ("cement", 0.20),
    ("tile", 0.13),
    ("ceramic", 0.55),
)
WALL = (
    ("other", 0.01),
    ("bamboo", 0.05),
    ("wood", 0.06),
    ("plaster_bamboo", 0.03),
    ("brick", 0.85),
)
ROOF = (
    ("thatch", 0.01),
    ("wood", 0.02),
    ("asbestos", 0.10),
    ("zinc", 0.15),
    ("roof_tile", 0.65),
    ("concrete", 0.07),
)
WATER = (
    ("surface", 0.02),
    ("unprotected", 0.06),
    ("protected_well", 0.37),
    ("piped", 0.15),
    ("bottled", 0.40),
)
TOILET = (("none", 0.04), ("public", 0.03), ("shared", 0.08), ("private", 0.85))
ELECTRICITY = (("none", 0.005), ("non_pln", 0.01), ("pln_no_meter", 0.045), ("pln_meter", 0.94))
FUEL = (
    ("wood", 0.07),
    ("kerosene", 0.01),
    ("none", 0.02),
    ("lpg_3kg", 0.80),
    ("lpg_large", 0.08),
    ("electric", 0.02),
)
VA = (
    (450, 0.30),
    (900, 0.40),
    (1300, 0.18),
    (2200, 0.08),
    (3500, 0.025),
    (4400, 0.01),
    (5500, 0.004),
    (6600, 0.001),
)


@dataclass
class Proxies:
    """Per household. Categorical proxies are stored as their choice values' index in the
    tuples above (0 = poorest)."""

    floor: I8
    wall: I8
    roof: I8
    water: I8
    toilet: I8
    electricity: I8
    fuel: I8
    va: I64
    floor_area: I64
    motorcycle: B
    refrigerator: B
    car: B
    land: B
    land_area: I64
    livestock: I64


def _check(levels: tuple[tuple[object, float], ...], enum: type | None) -> None:
    if enum is not None:
        allowed = set(enum.values)  # type: ignore[attr-defined]
        assert {v for v, _ in levels} <= allowed, levels


for _levels, _enum in (
    (FLOOR, choices.FloorMaterial),
    (WALL, choices.WallMaterial),
    (ROOF, choices.RoofMaterial),
    (WATER, choices.DrinkingWater),
    (TOILET, choices.Toilet),
    (ELECTRICITY, choices.Electricity),
    (FUEL, choices.CookingFuel),
):
    _check(_levels, _enum)


def _ordered(
    rng: np.random.Generator, w: F64, levels: tuple[tuple[object, float], ...], rho: float
) -> I8:
    z = rho * w + np.sqrt(1 - rho**2) * rng.normal(0, 1, len(w))
    shares = np.array([s for _, s in levels])
    cuts = np.quantile(z, np.cumsum(shares / shares.sum())[:-1])
    return np.searchsorted(cuts, z).astype(np.int8)


def _sigmoid(x: F64) -> F64:
    return 1.0 / (1.0 + np.exp(-x))


def household_wealth(rng: np.random.Generator, comp: Composition) -> F64:
    """Latent standardised wealth: regional effect plus a household's own."""
    w = comp.region_effect + rng.normal(0, 1, len(comp.size))
    return (w - w.mean()) / (w.std() or 1.0)


def make_proxies(rng: np.random.Generator, w: F64, size: I64, urban: B) -> Proxies:
    h = len(w)
    electricity = _ordered(rng, w, ELECTRICITY, 0.5)
    metered = electricity == len(ELECTRICITY) - 1
    va_level = _ordered(rng, w, VA, 0.7)
    va = np.where(metered, np.array([v for v, _ in VA])[va_level], 0).astype(np.int64)
    floor_area = np.exp(np.log(40) + 0.3 * w + 0.2 * np.log(size) + rng.normal(0, 0.35, h))
    land = rng.random(h) < np.where(urban, _sigmoid(-1.6 + 0.5 * w), _sigmoid(0.2 + 0.4 * w))
    land_area = np.where(land, np.exp(np.log(900) + 0.6 * w + rng.normal(0, 1.0, h)), 0)
    lam = np.exp(0.8 - 0.3 * w)
    livestock = np.where(
        (~urban) & (rng.random(h) < 0.35), rng.poisson(lam), (rng.random(h) < 0.03) * 1
    )
    return Proxies(
        floor=_ordered(rng, w, FLOOR, 0.7),
        wall=_ordered(rng, w, WALL, 0.6),
        roof=_ordered(rng, w, ROOF, 0.55),
        water=_ordered(rng, w, WATER, 0.55),
        toilet=_ordered(rng, w, TOILET, 0.55),
        electricity=electricity,
        fuel=_ordered(rng, w, FUEL, 0.55),
        va=va,
        floor_area=np.clip(floor_area, 9, 800).astype(np.int64),
        motorcycle=rng.random(h) < _sigmoid(1.4 + 0.9 * w),
        refrigerator=rng.random(h) < _sigmoid(0.3 + 1.2 * w),
        car=rng.random(h) < _sigmoid(-2.8 + 1.3 * w),
        land=land,
        land_area=np.round(land_area).astype(np.int64),
        livestock=livestock.astype(np.int64),
    )


def design_matrix(
    p: Proxies,
    size: I64,
    head_edu: I8,
    head_age: I64,
    head_female: B,
    workers: I64,
    kids: I64,
    elderly: I64,
    civil_servant: B,
) -> F64:
    """Observable predictors of log consumption (what a proxy-means test can see)."""
    return np.column_stack(
        [
            p.floor / (len(FLOOR) - 1),
            p.wall == len(WALL) - 1,
            p.roof / (len(ROOF) - 1),
            np.log(p.floor_area / size),
            p.water / (len(WATER) - 1),
            p.toilet == len(TOILET) - 1,
            np.log2(np.maximum(p.va, 225) / 450),
            p.fuel >= 4,
            p.fuel == 0,
            p.motorcycle,
            p.refrigerator,
            p.car,
            p.land,
            head_edu,
            civil_servant,
            workers / size,
            np.log(size),
            kids / size,
            elderly / size,
            head_female,
            head_age / 10,
        ]
    ).astype(np.float64)


_BETA = np.array(
    [
        0.25,
        0.08,
        0.10,
        0.22,
        0.10,
        0.08,
        0.12,
        0.12,
        -0.10,
        0.10,
        0.15,
        0.35,
        0.05,
        0.07,
        0.20,
        0.25,
        -0.30,
        -0.20,
        -0.05,
        -0.04,
        0.02,
    ]
)


def consumption(
    rng: np.random.Generator, x: F64, region_effect: F64, size: I64
) -> tuple[F64, float]:
    """Monthly per-capita consumption (rupiah) per household and the log-scale noise used."""
    explained = x @ (0.75 * _BETA)
    regional = 0.25 * region_effect
    var_x = float(np.var(explained))
    sigma = max(var_x * (1 / TARGET_PMT_R2 - 1) - float(np.var(regional)), 0.01) ** 0.5
    log_c = explained + regional + rng.normal(0, sigma, len(explained))
    # Shift so that POOR_SHARE of persons (not households) are under the line.
    order = np.argsort(log_c, kind="stable")
    cum = np.cumsum(size[order])
    at = int(np.searchsorted(cum, POOR_SHARE * cum[-1]))
    shift = np.log(POVERTY_LINE) - log_c[order][min(at, len(order) - 1)]
    return np.round(np.exp(log_c + shift), -2), sigma


def head_summary(comp: Composition, persons: Persons) -> dict[str, Any]:
    """Per-household demographic counts used by the consumption model."""
    h = len(comp.size)
    head_idx = comp.start
    age = comp.age
    return {
        "head_edu": persons.education[head_idx],
        "head_age": age[head_idx],
        "head_female": comp.female[head_idx],
        "workers": np.bincount(comp.hh, weights=persons.work != c.NOT_WORKING, minlength=h).astype(
            np.int64
        ),
        "kids": np.bincount(comp.hh, weights=age < 5, minlength=h).astype(np.int64),
        "elderly": np.bincount(comp.hh, weights=age >= 60, minlength=h).astype(np.int64),
        "civil_servant": np.bincount(comp.hh, weights=persons.work == c.CIVIL_SERVANT, minlength=h)
        > 0,
    }
