"""The calibration spec: which survey columns are consumption, weight, area and the proxies.

A TOML file, e.g. specs/synth_survey.toml:

    [survey]
    consumption = "KAPITA"   # monthly per-capita consumption (required)
    weight = "WEIGHT"        # sampling weight (optional)
    area = "KODE_KEC"        # area code, a prefix of the village code (optional)

    [model]
    method = "ols"           # ols | quantile
    quantile = 0.5
    area_effects = false
    folds = 5
    coverage = 0.4

    [proxies]
    floor_material = { column = "LANTAI", kind = "categorical" }
    floor_area_m2 = { column = "LUAS_LANTAI", kind = "numeric", log = true }

Proxy names are the registry's feature names (tepat.targeting.features) so that a calibrated
model can score the registry; other names calibrate, but the model then refuses to score.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tepat.core.errors import Problems

METHODS = ("ols", "quantile")
KINDS = ("numeric", "categorical")


@dataclass(frozen=True)
class Proxy:
    name: str
    column: str
    kind: str
    log: bool = False


@dataclass
class Spec:
    consumption: str
    proxies: list[Proxy]
    weight: str = ""
    area: str = ""
    method: str = "ols"
    quantile: float = 0.5
    area_effects: bool = False
    folds: int = 5
    coverage: float = 0.4
    seed: int = 20261128
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def spec_from_dict(raw: dict[str, Any], *, overrides: dict[str, Any] | None = None) -> Spec:
    p = Problems()
    survey = raw.get("survey", {})
    model = dict(raw.get("model", {}))
    model.update({k: v for k, v in (overrides or {}).items() if v is not None})
    if not isinstance(survey, dict) or not survey.get("consumption"):
        p.error("survey.consumption", "required", "kolom konsumsi per kapita wajib / required")
    proxies: list[Proxy] = []
    for name, item in (raw.get("proxies") or {}).items():
        where = f"proxies.{name}"
        if not isinstance(item, dict) or not item.get("column"):
            p.error(where, "required", "perlu `column` / needs `column`")
            continue
        kind = item.get("kind", "numeric")
        if kind not in KINDS:
            p.error(where, "kind", f"kind harus salah satu dari {KINDS} / must be one of {KINDS}")
            continue
        proxies.append(Proxy(name, str(item["column"]), kind, bool(item.get("log", False))))
    if not proxies:
        p.error("proxies", "required", "minimal satu proksi / at least one proxy")
    method = str(model.get("method", "ols"))
    if method not in METHODS:
        p.error("model.method", "method", f"metode harus {METHODS} / method must be {METHODS}")
    quantile = float(model.get("quantile", 0.5))
    if not 0 < quantile < 1:
        p.error("model.quantile", "range", "kuantil antara 0 dan 1 / quantile between 0 and 1")
    coverage = float(model.get("coverage", 0.4))
    if not 0 < coverage < 1:
        p.error("model.coverage", "range", "cakupan antara 0 dan 1 / coverage between 0 and 1")
    folds = int(model.get("folds", 5))
    if folds < 2:
        p.error("model.folds", "range", "minimal 2 lipatan / at least 2 folds")
    p.raise_if_errors()
    return Spec(
        consumption=str(survey["consumption"]),
        weight=str(survey.get("weight", "")),
        area=str(survey.get("area", "")),
        proxies=proxies,
        method=method,
        quantile=quantile,
        area_effects=bool(model.get("area_effects", False)),
        folds=folds,
        coverage=coverage,
        seed=int(model.get("seed", 20261128)),
    )


def spec_parse(text: str, *, overrides: dict[str, Any] | None = None, name: str = "spec") -> Spec:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        p = Problems()
        p.error(name, "toml", f"TOML tidak sah / invalid TOML: {exc}")
        p.raise_if_errors()
        raise  # unreachable: raise_if_errors raised
    return spec_from_dict(raw, overrides=overrides)


def spec_load(path: Path, *, overrides: dict[str, Any] | None = None) -> tuple[Spec, str]:
    """The spec in `path` with command-line overrides; also returns the file's text."""
    text = path.read_text(encoding="utf-8")
    return spec_parse(text, overrides=overrides, name=path.name), text
