from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tepat.core.errors import TepatError
from tepat.targeting import selectors, services
from tepat.targeting.management.commands._common import acting_user, fail


class Command(BaseCommand):
    help = "Proxy-means test: `tepat pmt calibrate SURVEY.csv --spec SPEC.toml`, `score`, `list`"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        cal = sub.add_parser(
            "calibrate", help="kalibrasi PMT dari survei / calibrate from a survey"
        )
        cal.add_argument("survey", type=Path)
        cal.add_argument("--spec", type=Path, required=True)
        cal.add_argument("--method", choices=["ols", "quantile"])
        cal.add_argument("--quantile", type=float)
        cal.add_argument("--coverage", type=float, help="cakupan, mis. 0.4 / coverage share")
        cal.add_argument("--folds", type=int)
        cal.add_argument("--area-effects", action="store_true", default=None)
        cal.add_argument("--name", default="")
        cal.add_argument("--user", help="username recorded as the one who ran it")
        score = sub.add_parser("score", help="skor semua rumah tangga / score every household")
        score.add_argument("--model", type=int, required=True, help="model version")
        score.add_argument("--rank-by", choices=["households", "persons"], default="households")
        score.add_argument("--regional-level", type=int, choices=[2, 4, 6, 10], default=4)
        score.add_argument("--user")
        score.add_argument("--no-progress", action="store_true")
        sub.add_parser("list", help="daftar model / list models")
        cmp = sub.add_parser(
            "compare", help="bandingkan OLS, kuantil, gradient boosting / compare methods (CV)"
        )
        cmp.add_argument("survey", type=Path)
        cmp.add_argument("--spec", type=Path, required=True)
        cmp.add_argument("--coverage", type=float)
        cmp.add_argument("--quantile", type=float)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except TepatError as exc:
            raise fail(exc) from None

    def _calibrate(self, o: dict[str, Any]) -> None:
        t0 = time.perf_counter()
        overrides = {
            "method": o["method"], "quantile": o["quantile"], "coverage": o["coverage"],
            "folds": o["folds"], "area_effects": o["area_effects"],
        }  # fmt: skip
        model = services.pmt_calibrate(
            acting_user=acting_user(o["user"]), survey_path=o["survey"], spec_path=o["spec"],
            overrides=overrides, name=o["name"],
        )  # fmt: skip
        s = model.training_summary
        self.stdout.write(
            f"PMT v{model.version} ({model.method}) disimpan / saved: {s['rows_used']} of "
            f"{s['rows_read']} rows used, {time.perf_counter() - t0:.1f} s"
        )
        if s["rows_dropped"]:
            self.stdout.write(f"  rows set aside: {json.dumps(s['rows_dropped'])}")
        cov = model.metrics["coverage"]
        for which in ("cv", "train"):
            m = model.metrics[which]
            self.stdout.write(
                f"  {which:5s} R2={m['r2']:.3f} AUC(bottom 40%)={m['auc_bottom40']:.3f} "
                f"at coverage {cov:.0%}: inclusion={m['inclusion_error']:.3f} "
                f"exclusion={m['exclusion_error']:.3f}"
            )

    def _score(self, o: dict[str, Any]) -> None:
        model = selectors.model_get(version=o["model"])
        run = services.scoring_run(
            acting_user=acting_user(o["user"]), model=model, rank_by=o["rank_by"],
            regional_level=o["regional_level"], progress=not o["no_progress"],
        )  # fmt: skip
        self.stdout.write(
            f"Skoring / scoring {run.public_id}: {run.households} households with PMT "
            f"v{model.version}, ranked by {run.rank_by}, {run.summary['seconds']} s; "
            f"per desil {run.summary['households_per_desil']}"
        )

    def _compare(self, o: dict[str, Any]) -> None:
        from tepat.targeting import pmt
        from tepat.targeting.spec import spec_load

        spec, _ = spec_load(
            o["spec"], overrides={"coverage": o["coverage"], "quantile": o["quantile"]}
        )
        survey = pmt.survey_read(o["survey"], spec)
        self.stdout.write(
            f"{len(survey.y)} households, {spec.folds}-fold CV"
            f"{' grouped by ' + spec.area if spec.area else ''}, coverage {spec.coverage:.0%}"
        )
        self.stdout.write(
            f"{'method':10s} {'R2':>6s} {'AUC':>6s} {'inclusion':>9s} {'exclusion':>9s}"
        )
        for method, m in pmt.compare(spec, survey).items():
            self.stdout.write(
                f"{method:10s} {m['r2']:6.3f} {m['auc_bottom40']:6.3f} "
                f"{m['inclusion_error']:9.3f} {m['exclusion_error']:9.3f}"
            )

    def _list(self, o: dict[str, Any]) -> None:
        for m in selectors.models_list():
            cv = m.metrics.get("cv", {})
            self.stdout.write(
                f"v{m.version}\t{m.method}\t{m.created_at:%Y-%m-%d %H:%M}\t{m.created_by_label}\t"
                f"R2={cv.get('r2')}\tAUC={cv.get('auc_bottom40')}\t{m.name}"
            )
