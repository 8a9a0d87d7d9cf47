"""Targeting reads: models, scoring runs, a run's population as columns, explanations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db.models import QuerySet

from tepat.core.errors import NotFound
from tepat.targeting import disclosure, engine, pmt
from tepat.targeting.features import FeatureFrame, household_features, household_flags
from tepat.targeting.models import (
    EvaluationRun,
    HouseholdScore,
    PmtModel,
    Rule,
    Scenario,
    ScoringRun,
    TruthConsumption,
)
from tepat.targeting.rules import Rule as ParsedRule
from tepat.targeting.rules import rule_explain


def models_list() -> QuerySet[PmtModel]:
    return PmtModel.objects.all()


def model_get(*, version: int) -> PmtModel:
    try:
        return PmtModel.objects.get(version=version)
    except PmtModel.DoesNotExist:
        raise NotFound(
            f"model PMT versi {version} tidak ada / no PMT model version {version}"
        ) from None


def runs_list() -> QuerySet[ScoringRun]:
    return ScoringRun.objects.select_related("model")


def run_get(*, public_id: str | None = None) -> ScoringRun:
    """A scoring run by id, or the latest finished one."""
    qs = ScoringRun.objects.select_related("model").filter(status=ScoringRun.Status.DONE)
    run = qs.filter(public_id=public_id).first() if public_id else qs.first()
    if run is None:
        raise NotFound("belum ada skoring / no scoring run yet: run `tepat pmt score`")
    return run


def household_desil(*, household_ids: Sequence[int]) -> dict[int, int]:
    """National desil of each household in the latest finished scoring run ({} if none)."""
    run = ScoringRun.objects.filter(status=ScoringRun.Status.DONE).first()
    if run is None:
        return {}
    scores = HouseholdScore.objects.filter(run=run)
    wanted = set(household_ids)
    if len(wanted) > 20_000:
        # Cheaper to stream the whole run than to send tens of thousands of ids as parameters.
        return {
            hid: d
            for hid, d in scores.values_list("household_id", "desil_national").iterator(20_000)
            if hid in wanted
        }
    ids = sorted(wanted)
    out: dict[int, int] = {}
    for start in range(0, len(ids), 900):
        out.update(
            scores.filter(household_id__in=ids[start : start + 900]).values_list(
                "household_id", "desil_national"
            )
        )
    return out


def rules_list() -> QuerySet[Rule]:
    return Rule.objects.all()


def rule_get(*, name: str) -> Rule:
    rule = Rule.objects.filter(name=name).first()
    if rule is None:
        raise NotFound(f"aturan tidak ada / no such rule: {name}")
    return rule


def scenarios_list() -> QuerySet[Scenario]:
    return Scenario.objects.select_related("rule")


def scenario_get(*, public_id: str) -> Scenario:
    s = Scenario.objects.select_related("rule").filter(public_id=public_id).first()
    if s is None:
        raise NotFound()
    return s


def evaluations_latest(scenarios: list[Scenario]) -> dict[int, EvaluationRun]:
    out: dict[int, EvaluationRun] = {}
    for ev in EvaluationRun.objects.filter(scenario__in=scenarios).order_by("created_at", "id"):
        out[ev.scenario_id] = ev
    return out


def evaluation_results(ev: EvaluationRun) -> dict[str, Any]:
    """An evaluation's results as pages and the API show them: small counts hidden."""
    return disclosure.results_suppressed(ev.results, disclosure.min_cell())


@dataclass
class Population:
    """A scoring run's households as columns, ready for rules, quotas and evaluation."""

    frame: FeatureFrame
    score: npt.NDArray[np.float64]
    desil_national: npt.NDArray[np.int64]
    desil_regional: npt.NDArray[np.int64]
    weight: npt.NDArray[np.float64]
    truth_pc: npt.NDArray[np.float64]
    columns: dict[str, npt.NDArray[Any]]


def population(*, run: ScoringRun, household_ids: list[int] | None = None) -> Population:
    qs = HouseholdScore.objects.filter(run=run)
    if household_ids is not None:
        qs = qs.filter(household_id__in=household_ids)
    rows = np.array(
        list(
            qs.order_by("household_id").values_list(
                "household_id", "score", "desil_national", "desil_regional"
            )
        ),
        dtype=np.float64,
    ).reshape(-1, 4)
    ids = rows[:, 0].astype(np.int64)
    frame = household_features(
        household_ids=ids.tolist() if household_ids is not None else None, on=run.started_at.date()
    )
    keep = np.isin(frame.household_id, ids)
    frame = frame.take(np.flatnonzero(keep))
    pos = np.searchsorted(ids, frame.household_id)
    score, dn, dr = rows[pos, 1], rows[pos, 2].astype(np.int64), rows[pos, 3].astype(np.int64)
    truth = np.full(len(frame), np.nan)
    tq = (
        TruthConsumption.objects.filter(household_id__in=frame.household_id.tolist())
        if household_ids is not None
        else TruthConsumption.objects.all()
    )
    t = np.array(list(tq.values_list("household_id", "consumption_pc")), dtype=np.float64).reshape(
        -1, 2
    )
    if len(t):
        tpos = np.searchsorted(frame.household_id, t[:, 0].astype(np.int64))
        ok = (tpos < len(frame)) & (frame.household_id[np.minimum(tpos, len(frame) - 1)] == t[:, 0])
        truth[tpos[ok]] = t[ok, 1]
    cols = engine.rule_columns(
        frame,
        score=score,
        desil_national=dn,
        desil_regional=dr,
        flags=household_flags(frame.household_id),
    )
    return Population(frame, score, dn, dr, engine.rank_weights(frame, run.rank_by), truth, cols)


@dataclass
class ProxyEffect:
    proxy: str
    value: str
    effect: float  # log points vs. the training average; negative = looks poorer

    @property
    def percent(self) -> int:
        return round((float(np.exp(self.effect)) - 1) * 100)


@dataclass
class HouseholdExplanation:
    household_public_id: str
    village_code: str
    model_version: int
    run_public_id: str
    score: float
    consumption_estimate: int
    desil_national: int
    desil_regional: int
    effects: list[ProxyEffect]
    rule: dict[str, Any] | None


def household_explain(
    *,
    user: Any,
    public_id: str,
    run: ScoringRun | None = None,
    rule: ParsedRule | None = None,
    top: int = 6,
) -> HouseholdExplanation:
    """The proxies that moved this household's score most, and (optionally) a rule's verdict.

    Region-scoped: a household outside the user's regions is "not found".
    """
    from tepat.registry.selectors import households_visible

    h = households_visible(user).filter(public_id=public_id).first()
    if h is None:
        raise NotFound()
    return _explain(h, run=run, rule=rule, top=top)


def household_score_explain(
    *, household: Any, run: ScoringRun | None = None, top: int = 6
) -> HouseholdExplanation:
    """The explanation of `household`'s score, without a staff user's region scope: for the
    household's own access export (UU 27/2022 Art. 7), whose caller proved who is asking."""
    return _explain(household, run=run, rule=None, top=top)


def household_scores(*, household_id: int) -> QuerySet[HouseholdScore]:
    """The household's score in every finished scoring run, newest run first."""
    return (
        HouseholdScore.objects.filter(household_id=household_id, run__status=ScoringRun.Status.DONE)
        .select_related("run__model")
        .order_by("-run__started_at", "-run_id")
    )


def _explain(
    h: Any, *, run: ScoringRun | None, rule: ParsedRule | None, top: int
) -> HouseholdExplanation:
    run = run or run_get()
    pop = population(run=run, household_ids=[h.pk])
    if not len(pop.frame):
        raise NotFound(
            "rumah tangga ini tidak ada di skoring ini / household not in this scoring run"
        )
    model = pmt.LinearPmt.from_dict(run.model.parameters)
    prefix = model.design.area_prefix
    area = np.strings.slice(pop.frame.village_code, 0, prefix) if prefix else None
    contrib = model.contributions(pop.frame.columns, area)
    effects = []
    for name, values in contrib.items():
        raw = pop.frame.columns.get(name)
        shown = "" if raw is None else str(raw[0])
        if shown.endswith(".0"):
            shown = shown[:-2]
        effects.append(ProxyEffect(name, shown, round(float(values[0]), 4)))
    effects.sort(key=lambda e: -abs(e.effect))
    verdict = None
    if rule is not None:
        ex = rule_explain(rule, pop.columns)
        verdict = {"eligible": ex.eligible, "reasons": ex.reasons, "sentence": ex.sentence}
    return HouseholdExplanation(
        household_public_id=h.public_id,
        village_code=h.village_id,
        model_version=run.model.version,
        run_public_id=run.public_id,
        score=round(float(pop.score[0]), 4),
        consumption_estimate=int(round(float(np.exp(pop.score[0])), -2)),
        desil_national=int(pop.desil_national[0]),
        desil_regional=int(pop.desil_regional[0]),
        effects=effects[:top],
        rule=verdict,
    )


def today() -> dt.date:
    return dt.date.today()
