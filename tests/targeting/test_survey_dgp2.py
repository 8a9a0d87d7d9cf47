"""The second synthetic survey (tepat.synth.survey_dgp2): deterministic, other names and codes
than the registry's, missing values and yes/no strings, and a spec that maps it, reads and
calibrates."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from tepat.synth import survey_dgp2 as dgp2
from tepat.targeting.features import ALL_FEATURES

RECODED = {  # survey column -> the spec's recode keys must cover every non-missing value
    "lantai": dgp2.FLOOR, "dinding": dgp2.WALL, "atap": dgp2.ROOF, "sumber_air": dgp2.WATER,
    "fasilitas_bab": dgp2.TOILET, "penerangan": dgp2.ELECTRICITY, "bahan_bakar": dgp2.FUEL,
    "pendidikan_krt": dgp2.EDUCATION, "lapangan_usaha_krt": dgp2.WORK, "jk_krt": dgp2.SEX,
}  # fmt: skip


def _write(out: Path, households: int, seed: int) -> dgp2.Survey2:
    return dgp2.write(
        out / "survey.csv", out / "truth.csv", out / "spec.toml", households=households, seed=seed
    )


def test_it_is_deterministic_by_seed(tmp_path: Path) -> None:
    _write(tmp_path / "a", 400, 5)
    _write(tmp_path / "b", 400, 5)
    _write(tmp_path / "c", 400, 6)
    for name in ("survey.csv", "truth.csv", "spec.toml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "survey.csv").read_bytes() != (
        tmp_path / "c" / "survey.csv"
    ).read_bytes()
    assert len((tmp_path / "a" / "survey.csv").read_text().splitlines()) == 401


def test_it_uses_other_names_and_codes_with_missing_values_and_yes_no() -> None:
    s = dgp2.generate(3000, seed=2)
    spec = tomllib.loads(dgp2.SPEC_TOML)
    columns = {p["column"] for p in spec["proxies"].values()}
    assert columns <= set(s.columns)
    assert not columns & set(ALL_FEATURES)  # no survey column is named like a registry feature
    assert set(spec["proxies"]) <= set(ALL_FEATURES)  # but every proxy maps onto one
    for column, levels in RECODED.items():
        proxy = next(p for p in spec["proxies"].values() if p["column"] == column)
        assert set(s.columns[column]) <= set(proxy["recode"]), column
        assert set(proxy["recode"]) == {code for code, _ in levels}
        assert not set(s.columns[column]) & set(proxy["recode"].values()), (
            column
        )  # codes, not labels
    for column in ("punya_motor", "punya_kulkas", "punya_mobil", "punya_lahan"):
        assert set(s.columns[column]) == {"ya", "tidak", ""}, column
    floor_area = s.columns["luas_lantai"]
    assert (floor_area == "").sum() > 0
    assert (floor_area == "-").sum() > 0
    assert 0.01 < np.isin(floor_area, ["", "-"]).mean() < 0.06
    assert (s.columns["umur_krt"] == "").sum() > 0


def test_the_truth_holds_area_effects_noise_and_the_poverty_line() -> None:
    s = dgp2.generate(4000, seed=3)
    t, c = s.truth, s.columns
    weight = c["bobot"].astype(float)
    share = np.average(t["poor_true"], weights=weight)
    assert share == pytest.approx(dgp2.POOR_SHARE, abs=0.005)
    # Area effects are constant within a village and vary between them.
    village = t["kode_desa"]
    for effect in ("effect_regency", "effect_district", "effect_village"):
        by_village = {v: set(t[effect][village == v]) for v in np.unique(village)[:20]}
        assert all(len(vals) == 1 for vals in by_village.values()), effect
        assert np.std(t[effect]) > 0.05, effect
    # Heteroskedastic: urban households are noisier.
    urban = t["urban"] == 1
    assert t["noise_sd"][urban].mean() > t["noise_sd"][~urban].mean() + 0.1
    # Measured consumption is the truth with measurement error.
    logs = np.log(c["pengeluaran_kap"].astype(float))
    assert np.corrcoef(logs, t["log_consumption_true"])[0, 1] > 0.95
    # The urban flag drives the model but is not a registry feature.
    assert set(c["wilayah"]) == {"1", "2"}


def test_tepat_synth_writes_it_on_request_and_leaves_the_default_outputs_alone(
    tmp_path: Path,
) -> None:
    base = ["synth", "--region", "32.73", "--persons", "300", "--seed", "4", "--no-progress"]
    call_command(*base, "--out", str(tmp_path / "plain"))
    call_command(*base, "--out", str(tmp_path / "with"), "--survey2", "120")
    plain = sorted(p.relative_to(tmp_path / "plain") for p in (tmp_path / "plain").rglob("*"))
    added = {Path("sources/survey2.csv"), Path("sources/survey2.toml"), Path("truth/survey2.csv")}
    assert not added & set(plain)
    for rel in plain:
        if (tmp_path / "plain" / rel).is_file():
            a = (tmp_path / "plain" / rel).read_bytes()
            assert a == (tmp_path / "with" / rel).read_bytes(), rel
    for rel in added:
        assert (tmp_path / "with" / rel).is_file(), rel
    rows = (tmp_path / "with" / "sources" / "survey2.csv").read_text().splitlines()
    assert len(rows) == 121
    assert (tmp_path / "with" / "sources" / "survey2.toml").read_text() == dgp2.SPEC_TOML


def test_its_spec_parses_with_recodes_and_the_target() -> None:
    from tepat.targeting.spec import spec_parse

    spec = spec_parse(dgp2.SPEC_TOML, name="survey2.toml")
    assert spec.consumption == "pengeluaran_kap"
    assert spec.poverty_line == dgp2.POVERTY_LINE
    assert spec.quota == pytest.approx(0.3)
    assert spec.quota_scope == "area"
    assert spec.cv_group == "kode_desa"
    assert spec.area_effects == "random"
    assert spec.methods == ["ols", "quantile", "enet", "gbm", "ensemble"]
    by_name = {p.name: p for p in spec.proxies}
    assert by_name["floor_material"].recode["6"] == "earth"
    assert by_name["owns_car"].recode["ya"] == 1
    assert "-" in by_name["floor_area_m2"].missing


@pytest.mark.slow
def test_its_spec_reads_the_survey_and_calibrates(tmp_path: Path) -> None:
    from tepat.targeting import pmt
    from tepat.targeting.spec import spec_parse
    from tepat.targeting.survey import survey_read

    _write(tmp_path, 800, 8)
    text = dgp2.SPEC_TOML.replace(
        'methods = ["ols", "quantile", "enet", "gbm", "ensemble"]', 'methods = ["ols", "enet"]'
    )
    spec = spec_parse(text, name="survey2.toml")
    s = survey_read(tmp_path / "survey.csv", spec)
    assert len(s.y) == 800
    # Every code was recoded onto a registry label; yes/no became 0/1 with blanks missing.
    assert set(s.proxies["floor_material"]) <= {label for _, label in dgp2.FLOOR}
    assert set(s.proxies["head_sex"]) <= {"M", "F"}
    car = s.proxies["owns_car"]
    assert set(np.unique(car[~np.isnan(car)])) <= {0.0, 1.0}
    assert np.isnan(car).sum() > 0
    assert np.isnan(s.proxies["floor_area_m2"]).sum() > 0  # blanks and "-" are missing
    codes = {w.get("code") for w in s.warnings}
    assert "non_numeric" not in codes  # nothing left unrecoded
    truth = np.loadtxt(tmp_path / "truth.csv", delimiter=",", skiprows=1, usecols=11)
    assert s.poor.mean() == pytest.approx(truth.mean(), abs=0.05)

    cal = pmt.calibrate(spec, s)
    assert cal.cv["r2"] is not None
    assert cal.cv["r2"] > 0.3
    for key in ("mistargeting", "inclusion_error", "exclusion_error"):
        assert 0.0 <= cal.cv[key] <= 1.0, key
    assert set(cal.comparison) == {"ols", "enet"}
