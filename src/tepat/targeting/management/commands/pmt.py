from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tepat.core.errors import TepatError
from tepat.targeting import selectors, services
from tepat.targeting.management.commands._common import acting_user, fail

# `pmt compare` on a spec naming one method compares these (the old command compared three).
COMPARE_DEFAULT = {
    "continuous": ("ols", "quantile", "gbm"),
    "binary": ("logit", "gbm"),
    "ordinal": ("ordinal", "logit", "gbm"),
}


class Command(BaseCommand):
    help = (
        "Proxy-means test: `tepat pmt calibrate SURVEY.csv --spec SPEC.toml`, `compare`, `score`, "
        "`list`"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        cal = sub.add_parser(
            "calibrate", help="kalibrasi PMT dari survei / calibrate from a survey"
        )
        self._model_arguments(cal)
        cal.add_argument("--name", default="")
        cal.add_argument("--user", help="username recorded as the one who ran it")
        score = sub.add_parser("score", help="skor semua rumah tangga / score every household")
        score.add_argument("--model", type=int, required=True, help="model version")
        score.add_argument("--rank-by", choices=["households", "persons"], default="households")
        score.add_argument("--regional-level", type=int, choices=[2, 4, 6, 10], default=4)
        score.add_argument("--user")
        score.add_argument("--no-progress", action="store_true")
        score.add_argument(
            "--chunk", type=int, default=services.SCORE_CHUNK,
            help="rumah tangga per potong / households read and scored at a time",
        )  # fmt: skip
        pred = sub.add_parser(
            "export-predictions",
            help="prediksi out-of-fold per baris survei / a model's out-of-fold predictions",
        )
        pred.add_argument("version", type=int, help="model version")
        pred.add_argument("--out", type=Path, required=True, help="FILE.csv | FILE.parquet")
        pred.add_argument("--user", help="username: their role must allow it (audited)")
        scores = sub.add_parser(
            "export-scores",
            help="skor dan desil per rumah tangga / scores and desil per registry household",
        )
        scores.add_argument("run", help="scoring run public id")
        scores.add_argument("--out", type=Path, required=True, help="FILE.csv | FILE.parquet")
        scores.add_argument("--region", default="", help="region code (2/4/6/10 digits)")
        scores.add_argument(
            "--user", help="username: only households in their regions (audited); none = all"
        )
        sub.add_parser("list", help="daftar model / list models")
        cmp = sub.add_parser(
            "compare",
            help="bandingkan metode pada lipatan yang sama, tanpa menyimpan / compare methods on "
            "the same folds (CV), nothing saved",
        )
        self._model_arguments(cmp)

    @staticmethod
    def _model_arguments(p: CommandParser) -> None:
        p.add_argument("survey", type=Path)
        p.add_argument("--spec", type=Path, required=True)
        p.add_argument(
            "--methods", help="dipisah koma / comma-separated, e.g. ols,enet,gbm,ensemble"
        )
        p.add_argument("--method", help="satu metode / one method (same as --methods M)")
        p.add_argument("--select", help="auto | one of the methods")
        p.add_argument("--quantile", type=float)
        p.add_argument("--quota", type=float, help="pangsa terpilih / share selected, e.g. 0.3")
        p.add_argument("--coverage", type=float, help="= --quota (nama lama / old name)")
        p.add_argument("--quota-file", type=Path, help="CSV area,quota[,households]")
        p.add_argument("--folds", type=int)
        p.add_argument(
            "--area-effects", nargs="?", const="fixed", choices=["none", "fixed", "random"]
        )

    @staticmethod
    def _overrides(o: dict[str, Any]) -> dict[str, Any]:
        methods = (
            [m.strip() for m in o["methods"].split(",") if m.strip()] if o["methods"] else None
        )
        return {
            "methods": methods, "method": o["method"], "select": o["select"],
            "quantile": o["quantile"], "quota": o["quota"], "coverage": o["coverage"],
            "quota_file": str(o["quota_file"]) if o["quota_file"] else None,
            "folds": o["folds"], "area_effects": o["area_effects"],
        }  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action'].replace('-', '_')}")(options)
        except TepatError as exc:
            raise fail(exc) from None

    def _calibrate(self, o: dict[str, Any]) -> None:
        t0 = time.perf_counter()
        model = services.pmt_calibrate(
            acting_user=acting_user(o["user"]), survey_path=o["survey"], spec_path=o["spec"],
            overrides=self._overrides(o), name=o["name"],
        )  # fmt: skip
        s = model.training_summary
        m = model.metrics
        self.stdout.write(
            f"PMT v{model.version} ({model.method}) disimpan / saved: {s['rows_used']} of "
            f"{s['rows_read']} rows used, {time.perf_counter() - t0:.1f} s"
        )
        if s["rows_dropped"]:
            self.stdout.write(f"  rows set aside: {json.dumps(s['rows_dropped'])}")
        self._folds_line(m["folds"], m["quota"], s.get("target", {}))
        order = m.get("methods") or list(m["comparison"])  # jsonb does not keep key order
        self._table({k: m["comparison"][k] for k in order}, chosen=model.method)
        self.stdout.write(f"Pilihan / selection: {m['selection']['reason']}")
        for which in ("cv", "train"):
            self.stdout.write(f"  {which:5s} {self._metrics_text(m[which])}")
        self._warnings(m["warnings"])

    def _folds_line(self, folds: dict[str, Any], quota: float, target: dict[str, Any]) -> None:
        how = (
            f"grouped by {folds.get('column')} ({folds.get('groups')} groups)"
            if folds.get("grouped")
            else "split by rows (NOT grouped)"
        )
        scope = target.get("quota_scope", "national")
        if target.get("quota_file"):
            scope = f"per area from the quota file ({target.get('quota_areas_in_file')} areas)"
        elif target.get("quota_column"):
            scope = f"per area from column {target['quota_column']}"
        if target.get("poverty_line_spec"):
            poor = f"poverty line {target['poverty_line_spec']:g}"
        elif target.get("poor_classes"):
            poor = f"poor classes {target['poor_classes']}"
        else:
            poor = f"poorest {target.get('poor_share_spec') or 0.4:.0%}"
            if target.get("poverty_line"):
                poor += f" (line {target['poverty_line']:,.0f})"
        self.stdout.write(
            f"{folds.get('k')}-fold CV {how}; target: {poor} (poor share "
            f"{target.get('poor_share')}); quota {quota:.0%} ({scope})"
        )

    @staticmethod
    def _num(v: Any, width: int = 7) -> str:
        return f"{v:{width}.4f}" if isinstance(v, int | float) else f"{'-':>{width}s}"

    def _metrics_text(self, m: dict[str, Any]) -> str:
        return (
            f"mistargeting={self._num(m.get('mistargeting'), 0)} "
            f"inclusion={self._num(m.get('inclusion_error'), 0)} "
            f"exclusion={self._num(m.get('exclusion_error'), 0)} "
            f"leakage={self._num(m.get('leakage'), 0)} AUC={self._num(m.get('auc'), 0)} "
            f"R2={self._num(m.get('r2'), 0)}"
        )

    def _table(self, comparison: dict[str, Any], *, chosen: str = "") -> None:
        self.stdout.write(
            f"  {'method':10s} {'mistarg':>7s} {'(sd)':>7s} {'inclus':>7s} {'exclus':>7s} "
            f"{'leakage':>7s} {'AUC':>7s} {'R2':>7s} {'R2 sd':>7s}"
        )
        for method, c in comparison.items():
            cv, spread = c["cv"], c.get("folds", {})
            mark = "*" if method == chosen else " "
            self.stdout.write(
                f"{mark} {method:10s} {self._num(cv.get('mistargeting'))} "
                f"{self._num(spread.get('mistargeting', {}).get('sd'))} "
                f"{self._num(cv.get('inclusion_error'))} {self._num(cv.get('exclusion_error'))} "
                f"{self._num(cv.get('leakage'))} {self._num(cv.get('auc'))} "
                f"{self._num(cv.get('r2'))} {self._num(spread.get('r2', {}).get('sd'))}"
            )

    def _warnings(self, warnings: list[dict[str, Any]]) -> None:
        if not warnings:
            return
        self.stderr.write(f"Peringatan / warnings ({len(warnings)}):")
        for w in warnings:
            count = f" [{w['count']}]" if w.get("count") else ""
            self.stderr.write(f"  {w.get('field', '')}: {w.get('message', '')}{count}")

    def _score(self, o: dict[str, Any]) -> None:
        model = selectors.model_get(version=o["model"])
        run = services.scoring_run(
            acting_user=acting_user(o["user"]), model=model, rank_by=o["rank_by"],
            regional_level=o["regional_level"], progress=not o["no_progress"], chunk=o["chunk"],
        )  # fmt: skip
        self.stdout.write(
            f"Skoring / scoring {run.public_id}: {run.households} households with PMT "
            f"v{model.version}, ranked by {run.rank_by}, {run.summary['seconds']} s; "
            f"per desil {run.summary['households_per_desil']}"
        )
        for w in run.summary.get("warnings", []):
            self.stdout.write(f"  peringatan / warning [{w['field']}] {w['message']}")

    def _export_predictions(self, o: dict[str, Any]) -> None:
        from tepat.targeting import exports

        model = selectors.model_get(version=o["version"])
        n = exports.predictions_export(
            acting_user=acting_user(o["user"]), model=model, out=o["out"]
        )
        self.stdout.write(
            f"{n} baris prediksi out-of-fold PMT v{model.version} / out-of-fold prediction rows "
            f"written to {o['out']}"
        )

    def _export_scores(self, o: dict[str, Any]) -> None:
        from tepat.targeting import exports

        run = exports.scoring_run_get(o["run"])
        scope, n = exports.scores_export(
            acting_user=acting_user(o["user"]), run=run, out=o["out"], region=o["region"]
        )
        where = ", ".join(scope.codes) + (f" / {scope.region}" if scope.region else "")
        self.stdout.write(
            f"{n} rumah tangga dari skoring {run.public_id} ({where}) / households written to "
            f"{o['out']}"
        )

    def _compare(self, o: dict[str, Any]) -> None:
        from tepat.targeting import compat, pmt
        from tepat.targeting.evaluation import quota_table_read
        from tepat.targeting.spec import spec_load
        from tepat.targeting.survey import survey_read

        overrides = self._overrides(o)
        spec, _ = spec_load(o["spec"], overrides=overrides)
        if len(spec.methods) < 2 and not (overrides["methods"] or overrides["method"]):
            # A spec of one method: compare it with the usual alternatives for its outcome.
            wanted = COMPARE_DEFAULT[spec.outcome_kind]
            spec, _ = spec_load(o["spec"], overrides={**overrides, "methods": list(wanted)})
        survey = survey_read(o["survey"], spec)
        table = quota_table_read(Path(spec.quota_file)) if spec.quota_file else None
        cal = pmt.calibrate(spec, survey, table)
        self.stdout.write(f"{len(survey.y)} households; nothing saved")
        self._folds_line(cal.folds, spec.quota, cal.summary.get("target", {}))
        self._table(cal.comparison, chosen=cal.method)
        self.stdout.write("Sebaran per lipatan / per-fold spread (mean, sd, min..max):")
        for method, c in cal.comparison.items():
            parts = []
            for key in ("mistargeting", "inclusion_error", "exclusion_error", "auc", "r2"):
                f = c["folds"].get(key) or {}
                if f.get("mean") is None:
                    continue
                parts.append(
                    f"{key} {f['mean']:.4f} sd {self._num(f.get('sd'), 0)} "
                    f"[{f['min']:.4f}..{f['max']:.4f}]"
                )
            self.stdout.write(f"  {method:10s} " + "; ".join(parts))
        self.stdout.write(f"Pilihan / selection: {cal.selection['reason']}")
        # Compare saves nothing, so it does not refuse; but what `calibrate` would refuse (the
        # spec against the registry) is said here too, not discovered later.
        registry = [
            {**p, "message": "kalibrasi akan menolak / calibrate would refuse: " + p["message"]}
            if p["level"] == "error"
            else p
            for p in compat.check_spec_against_registry(spec, survey)
        ]
        self._warnings([*registry, *cal.warnings])

    def _list(self, o: dict[str, Any]) -> None:
        for m in selectors.models_list():
            cv = m.metrics.get("cv", {})
            auc = cv.get("auc", cv.get("auc_bottom40"))
            n_warn = len(m.metrics.get("warnings", []))
            self.stdout.write(
                f"v{m.version}\t{m.method}\t{m.created_at:%Y-%m-%d %H:%M}\t{m.created_by_label}\t"
                f"mistargeting={cv.get('mistargeting')}\tR2={cv.get('r2')}\tAUC={auc}\t"
                f"warnings={n_warn}\t{m.name}"
            )
