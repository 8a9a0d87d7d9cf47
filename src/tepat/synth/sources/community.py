"""A village deliberation's (musyawarah desa) ranking of its households, for hybrid targeting.

The model (all parameters in `CommunityModel`, written to the manifest):
- What the village sees. Log consumption = what the proxies and demographics predict (the part a
  proxy-means test can see: the least-squares fit on the registry's design matrix) + the rest,
  which the proxies miss (income shocks, debts, sickness, remittances). Neighbours know part of
  the rest (`local_knowledge`, a share), and misjudge everyone by some noise
  (`perception_noise`, in standard deviations of log consumption):
      perceived = visible + local_knowledge x hidden + N(0, perception_noise x sd(log c)).
  The noise also stands for the village's own notion of who is poor, which is not consumption
  (Alatas et al. 2012: community targeting matched local views better and consumption slightly
  worse than the PMT).
- Elite capture. In `elite_villages` of the deliberating villages, households related to the
  village head (`elite_share` of the village, at least one, drawn among the better-off half by
  true consumption) are moved into the poorest `selected_share` of the ranking.
- No deliberation. `no_deliberation` of the villages held none: they have no rows.
- Minutes are typed by hand: `kk_typo` of the rows carry a No. KK with one digit wrong.

sources/community_ranking.csv: kode_desa, no_kk, peringkat (1 = poorest in the village),
terpilih (ya/tidak: the poorest `selected_share` of the village, at least one household), ordered
by village and rank. truth/community_ranking.csv, one row per registry household: kk (true),
kode_desa, deliberation, elite_village, elite_captured, kk_typo (0/1), peringkat (0 = none).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tepat.synth.files import Columns
from tepat.synth.names import STR, StrArray

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class CommunityModel:
    no_deliberation: float = 0.10  # share of villages that held no deliberation
    local_knowledge: float = 0.5  # share of the welfare the proxies miss that neighbours see
    perception_noise: float = 0.8  # sd of the village's misjudgement, in sd of log consumption
    elite_villages: float = 0.25  # share of deliberating villages with elite capture
    elite_share: float = 0.05  # households related to the village head, share of the village
    selected_share: float = 0.3  # the list the meeting chooses (terpilih), share of the village
    kk_typo: float = 0.003  # rows whose No. KK was mistyped in the minutes

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass
class Deliberation:
    """Per household (index = household), and per village (`held`, `elite_village`)."""

    held: B  # per village: a deliberation took place
    elite_village: B  # per village: its list was captured by the village head's relatives
    perceived: F64  # per household: the village's view of its log welfare
    rank: I64  # per household: 1 = poorest in the village, 0 = not ranked
    selected: B  # per household: on the meeting's list
    elite_captured: B  # per household: moved into the poor list by elite capture


def _visible(log_c: F64, x: F64) -> F64:
    """What the proxies and demographics predict (least squares on [1, x])."""
    design = np.column_stack([np.ones(len(log_c)), x])
    beta, *_ = np.linalg.lstsq(design, log_c, rcond=None)
    return np.asarray(design @ beta, dtype=np.float64)


def _rank_within(village: I64, value: F64) -> I64:
    """1-based rank of `value` within each village (ties by household order)."""
    n = len(value)
    order = np.lexsort((np.arange(n), value, village))
    vs = village[order]
    starts = np.r_[0, np.flatnonzero(vs[1:] != vs[:-1]) + 1] if n else np.array([], np.int64)
    first = np.zeros(n, np.int64)
    if n:
        first[starts] = starts
        first = np.maximum.accumulate(first)
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n) - first + 1
    return rank


def deliberate(
    rng: np.random.Generator,
    village: I64,
    consumption: F64,
    x: F64,
    model: CommunityModel = CommunityModel(),
) -> Deliberation:
    """The deliberation of every village. Every random draw is made whatever the parameters, so
    two models on one seed differ only where the parameters do (tests compare them)."""
    h = len(village)
    nv = int(village.max()) + 1 if h else 0
    log_c = np.log(np.maximum(consumption, 1.0))
    visible = _visible(log_c, x)
    hidden = log_c - visible
    scale = float(np.std(log_c)) or 1.0
    noise = rng.normal(0, 1, h)
    held_draw = rng.random(nv)
    elite_draw = rng.random(nv)
    related_draw = rng.random(h)
    place_draw = rng.random(h)

    perceived = visible + model.local_knowledge * hidden + model.perception_noise * scale * noise
    held = held_draw >= model.no_deliberation
    elite_village = held & (elite_draw < model.elite_villages)
    size = np.bincount(village, minlength=nv)
    rank0 = _rank_within(village, perceived)
    # Better-off half by true consumption within the village; the head's relatives are the
    # ones among them with the lowest draws (elite_share of the village, at least one).
    true_rank = _rank_within(village, log_c)
    better_off = true_rank > size[village] / 2
    related_order = _rank_within(village, np.where(better_off, related_draw, 2.0))
    n_related = np.maximum(np.round(model.elite_share * size), 1).astype(np.int64)
    captured = elite_village[village] & better_off & (related_order <= n_related[village])
    # Move each captured household to a random place inside the village's poor list: just
    # below the perceived welfare of the household at that place.
    n_list = np.maximum(np.round(model.selected_share * size), 1).astype(np.int64)
    # Places up to n_list - c + 1 for a village's c captured households keep them all on the list.
    n_captured = np.bincount(village, weights=captured, minlength=nv).astype(np.int64)
    places = np.maximum(n_list - n_captured + 1, 1)
    target_rank = 1 + np.floor(place_draw * places[village]).astype(np.int64)
    at_rank = np.full((h,), np.nan)
    order = np.lexsort((rank0, village))
    start = np.r_[0, np.cumsum(size)[:-1]]
    idx = captured.nonzero()[0]
    where = start[village[idx]] + np.minimum(target_rank[idx], size[village[idx]]) - 1
    at_rank[idx] = perceived[order[where]] - 1e-9 * (1 + place_draw[idx])
    perceived = np.where(captured, at_rank, perceived)
    rank = _rank_within(village, perceived)
    rank = np.where(held[village], rank, 0)
    selected = held[village] & (rank <= n_list[village])
    return Deliberation(held, elite_village, perceived, rank, selected, captured)


def _typo(rng: np.random.Generator, kk: StrArray, rows: I64) -> StrArray:
    out = kk.copy()
    for i in rows:
        digits = list(str(out[i]))
        at = int(rng.integers(0, len(digits)))
        digits[at] = str((int(digits[at]) + int(rng.integers(1, 10))) % 10)
        out[i] = "".join(digits)
    return out


def build(
    rng: np.random.Generator,
    *,
    kk: StrArray,
    village: I64,
    village_code: StrArray,
    consumption: F64,
    x: F64,
    model: CommunityModel = CommunityModel(),
) -> tuple[Columns, Columns]:
    """(sources/community_ranking.csv, truth/community_ranking.csv) columns."""
    d = deliberate(rng, village, consumption, x, model)
    typo = (rng.random(len(kk)) < model.kk_typo) & (d.rank > 0)
    written_kk = _typo(rng, kk, np.flatnonzero(typo).astype(np.int64))
    rows = np.flatnonzero(d.rank > 0)
    rows = rows[np.lexsort((d.rank[rows], village[rows]))]
    source: Columns = {
        "kode_desa": village_code[rows],
        "no_kk": written_kk[rows],
        "peringkat": d.rank[rows],
        "terpilih": np.where(d.selected[rows], "ya", "tidak").astype(STR),
    }
    truth: Columns = {
        "kk": kk,
        "kode_desa": village_code,
        "deliberation": d.held[village],
        "elite_village": d.elite_village[village],
        "elite_captured": d.elite_captured,
        "kk_typo": typo,
        "peringkat": d.rank,
    }
    return source, truth


def manifest_entry(model: CommunityModel, truth: Columns) -> dict[str, Any]:
    return {
        **model.as_dict(),
        "elite_captured_households": int(np.asarray(truth["elite_captured"]).sum()),
        "kk_typos": int(np.asarray(truth["kk_typo"]).sum()),
    }
