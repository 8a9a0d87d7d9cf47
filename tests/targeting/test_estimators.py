"""The model family behind one interface: each estimator against a reference implementation,
JSON round trips (LightGBM as its own text model, never a pickle), the ensemble and random area
effects."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from tepat.targeting import estimators as est
from tepat.targeting import pmt

SPEC = SimpleNamespace(seed=11, quantile=0.5, methods=["ols", "enet", "gbm"], classes=[])


@pytest.fixture(autouse=True)
def few_trees(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(est.GBM_PARAMS, "num_boost_round", 25)


def data(n: int = 800, seed: int = 1) -> tuple[Any, Any, Any, Any]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    w = rng.uniform(0.5, 2.0, n)
    groups = np.array([f"g{i}" for i in rng.integers(0, 30, n)], dtype=object)
    y = 1.0 + X @ np.array([0.5, -0.3, 0.2, 0.0]) + rng.normal(0, 0.5, n)
    return X, y, w, groups


def test_weighted_ols_matches_statsmodels_with_classical_and_cluster_robust_errors() -> None:
    import statsmodels.api as sm

    X, y, w, groups = data()
    e = est.estimator_fit("ols", X, y, w, outcome_kind="continuous", spec=SPEC, groups=groups)
    ref = sm.WLS(y, sm.add_constant(X), weights=w).fit()
    assert np.allclose(np.r_[e.intercept, e.coef], ref.params, atol=1e-10)
    assert np.allclose(e.se, ref.bse, rtol=1e-8)
    codes = np.unique(groups, return_inverse=True)[1]
    clustered = sm.WLS(y, sm.add_constant(X), weights=w).fit(
        cov_type="cluster", cov_kwds={"groups": codes}
    )
    assert np.allclose(e.se_cluster, clustered.bse, rtol=1e-8)
    assert e.clusters == 30


def test_the_elastic_net_standardises_and_reports_raw_scale_coefficients() -> None:
    X, y, w, _ = data()
    scaled = X * np.array([1.0, 100.0, 0.01, 1.0])  # the same model in other units
    a = est.estimator_fit("enet", X, y, w, outcome_kind="continuous", spec=SPEC)
    b = est.estimator_fit("enet", scaled, y, w, outcome_kind="continuous", spec=SPEC)
    assert np.allclose(a.predict(X), b.predict(scaled), atol=1e-6)
    assert a.coef[0] == pytest.approx(0.5, abs=0.05)
    assert {"alpha", "l1_ratio", "inner_folds"} <= set(a.info)


def test_the_logit_matches_statsmodels_and_scores_the_poor_lower() -> None:
    import statsmodels.api as sm

    X, y, w, groups = data()
    poor = (y < np.quantile(y, 0.4)).astype(float)
    e = est.estimator_fit("logit", X, poor, w, outcome_kind="binary", spec=SPEC, groups=groups)
    ref = sm.GLM(1 - poor, sm.add_constant(X), family=sm.families.Binomial(), freq_weights=w).fit()
    assert np.allclose(np.r_[e.intercept, e.coef], ref.params, atol=1e-3)
    assert np.allclose(e.se, ref.bse, rtol=1e-3)
    assert e.predict(X)[poor == 1].mean() < e.predict(X)[poor == 0].mean()


def test_the_ordinal_model_matches_statsmodels_and_its_weights_count_as_copies() -> None:
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    X, y, _, _ = data(600)
    cls = np.digitize(y, np.quantile(y, [0.25, 0.5, 0.75])).astype(float)
    spec = SimpleNamespace(seed=1, classes=["1", "2", "3", "4"])
    e = est.estimator_fit("ordinal", X, cls, np.ones(600), outcome_kind="ordinal", spec=spec)
    ref = OrderedModel(cls, X, distr="logit").fit(method="bfgs", disp=0)
    assert np.allclose(e.coef, ref.params[:4], atol=1e-3)
    assert np.allclose(e.se[1:], ref.bse[:4], rtol=1e-3)
    # Weight 2 on the first 100 rows == those rows twice.
    w = np.ones(600)
    w[:100] = 2.0
    weighted = est.estimator_fit("ordinal", X, cls, w, outcome_kind="ordinal", spec=spec)
    Xd, cd = np.vstack([X, X[:100]]), np.concatenate([cls, cls[:100]])
    copied = est.estimator_fit("ordinal", Xd, cd, np.ones(700), outcome_kind="ordinal", spec=spec)
    assert np.allclose(weighted.coef, copied.coef, atol=1e-4)
    assert weighted.predict(X)[cls == 0].mean() < weighted.predict(X)[cls == 3].mean()


def test_the_ordinal_model_needs_classes() -> None:
    X, y, w, _ = data(100)
    with pytest.raises(ValueError, match="class"):
        est.estimator_fit("ordinal", X, y, w, outcome_kind="continuous", spec=SPEC)


def test_a_saved_lightgbm_model_reloads_from_its_text_and_predicts_identically() -> None:
    X, y, w, _ = data()
    e = est.estimator_fit("gbm", X, y, w, outcome_kind="continuous", spec=SPEC)
    saved = json.loads(json.dumps(e.as_dict()))
    assert saved["model"].startswith("tree")  # LightGBM's text format, not a pickle
    again = est.estimator_from_dict(saved)
    assert np.array_equal(again.predict(X), e.predict(X))
    # SHAP values add up to the prediction.
    assert np.allclose(again.contributions(X).sum(axis=1), e.predict(X))


def test_lightgbm_is_deterministic_for_a_seed() -> None:
    X, y, w, _ = data()
    a = est.estimator_fit("gbm", X, y, w, outcome_kind="continuous", spec=SPEC)
    b = est.estimator_fit("gbm", X, y, w, outcome_kind="continuous", spec=SPEC)
    assert a.model_text == b.model_text


def test_a_binary_lightgbm_scores_the_log_odds_of_not_being_poor() -> None:
    X, y, w, _ = data()
    poor = (y < np.quantile(y, 0.4)).astype(float)
    e = est.estimator_fit("gbm", X, poor, w, outcome_kind="binary", spec=SPEC)
    assert e.objective == "binary"
    assert e.predict(X)[poor == 1].mean() < e.predict(X)[poor == 0].mean()


def test_the_ensemble_averages_its_members_standardised_scores() -> None:
    X, y, w, _ = data()
    e = est.estimator_fit("ensemble", X, y, w, outcome_kind="continuous", spec=SPEC)
    assert e.member_kinds == ["ols", "enet", "gbm"]
    z = np.mean(
        [(m.predict(X) - c) / s for m, c, s in zip(e.members, e.centre, e.scale, strict=True)],
        axis=0,
    )
    assert np.allclose(e.predict(X), e.intercept + e.slope * z)
    for m, c in zip(e.members, e.centre, strict=True):
        assert np.average(m.predict(X), weights=w) == pytest.approx(c)
    again = est.estimator_from_dict(json.loads(json.dumps(e.as_dict())))
    assert np.allclose(again.predict(X), e.predict(X))


@pytest.mark.parametrize("kind", ["ols", "quantile", "enet", "logit", "gbm", "ensemble"])
def test_every_estimator_round_trips_through_json(kind: str) -> None:
    X, y, w, groups = data(400)
    poor = y < np.quantile(y, 0.4)
    e = est.estimator_fit(
        kind, X, y, w, outcome_kind="continuous", spec=SPEC, groups=groups, poor=poor
    )
    again = est.estimator_from_dict(json.loads(json.dumps(e.as_dict())))
    assert again.kind == kind
    assert np.allclose(again.predict(X), e.predict(X))


def test_random_area_effects_shrink_small_areas_and_leave_unseen_areas_at_zero() -> None:
    rng = np.random.default_rng(4)
    big = np.repeat(["A", "B"], 400)
    small = np.array(["C"] * 3)
    area = np.concatenate([big, small]).astype(object)
    true = {"A": 0.3, "B": -0.3, "C": 0.3}
    resid = np.array([true[a] for a in area]) + rng.normal(0, 0.5, len(area))
    effects, info = pmt.random_area_effects(resid, np.ones(len(area)), area)
    raw_c = resid[area == "C"].mean()
    assert abs(effects["C"]) < abs(raw_c)  # three households: pulled towards 0
    assert effects["A"] == pytest.approx(resid[area == "A"].mean(), abs=0.02)  # 400: kept
    assert info["between_variance"] > 0
    model = pmt.Pmt(design=None, estimator=None, area_effect=effects)  # type: ignore[arg-type]
    assert model._area_values(np.array(["A", "Z"], dtype=object), 2).tolist() == [
        effects["A"],
        0.0,
    ]


def test_areas_that_do_not_differ_get_no_effect() -> None:
    rng = np.random.default_rng(5)
    area = np.repeat(["A", "B", "C", "D"], 50).astype(object)
    resid = np.tile(rng.normal(0, 0.5, 50), 4)  # the same residuals in every area
    effects, info = pmt.random_area_effects(resid, np.ones(200), area)
    assert info["between_variance"] == 0
    assert effects == {}
