from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tepat.core.errors import TepatError
from tepat.targeting import community, hybrid, selectors
from tepat.targeting.management.commands._common import acting_user, fail


class Command(BaseCommand):
    help = (
        "Hasil musyawarah desa dan penargetan gabungan / community rankings and hybrid "
        "targeting: `tepat community import FILE`, `list`, `compare --rule shortlist`"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser(
            "import", help="impor hasil musyawarah desa / import a deliberation result (CSV)"
        )
        imp.add_argument("path", type=Path)
        imp.add_argument("--village-column", default="kode_desa", help="default: kode_desa")
        imp.add_argument("--kk-column", default="", help="No. KK column (default: no_kk)")
        imp.add_argument(
            "--household-column", default="", help="household public id column, instead of KK"
        )
        imp.add_argument(
            "--rank-column", default="", help="full rank, 1 = poorest (default: peringkat)"
        )
        imp.add_argument(
            "--selected-column", default="", help="yes/no list (ya/tidak), instead of a rank"
        )
        imp.add_argument("--delimiter", default=",", help="',' ';' '|' or tab")
        imp.add_argument("--label", default="", help="a name for this import")
        imp.add_argument("--user", help="username recorded as the one who imported it")
        ls = sub.add_parser("list", help="daftar impor dan cakupan desa / imports and coverage")
        ls.add_argument("--village", help="list one village's households (audited)")
        ls.add_argument("--user")
        cmp = sub.add_parser(
            "compare", help="PMT, komunitas, gabungan berdampingan / PMT, community, hybrid"
        )
        cmp.add_argument("--run", help="scoring run id (default: the latest)")
        cmp.add_argument("--rule", choices=hybrid.RULES, default="shortlist")
        cmp.add_argument("--k", type=float, default=hybrid.DEFAULT_K)
        cmp.add_argument("--weight", type=float, default=hybrid.DEFAULT_WEIGHT)
        cmp.add_argument("--quota", type=float, default=0.3, help="share per village (0..1]")
        cmp.add_argument(
            "--target-share", type=float, help="poorest share by truth (default: quota)"
        )
        cmp.add_argument("--json", action="store_true", help="print the result as JSON")
        cmp.add_argument("--user")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except TepatError as exc:
            raise fail(exc) from None

    def _import(self, o: dict[str, Any]) -> None:
        cols = community.ImportColumns(
            village=o["village_column"], kk=o["kk_column"], household=o["household_column"],
            rank=o["rank_column"], selected=o["selected_column"], delimiter=o["delimiter"],
        )  # fmt: skip
        imp = community.community_import(
            acting_user=acting_user(o["user"]), path=o["path"], columns=cols, label=o["label"]
        )
        self.stdout.write(
            f"Impor / import {imp.public_id} ({imp.kind}): {imp.rows_used} of {imp.rows_read} "
            f"rows used, {len(imp.villages)} villages"
        )
        for line in community.problems_text(imp.problems):
            self.stdout.write(f"  {line}")

    def _list(self, o: dict[str, Any]) -> None:
        user = acting_user(o["user"])
        if o["village"]:
            for e in community.village_list(user=user, village_code=o["village"]):
                shown = e.rank if e.rank is not None else ("ya" if e.selected else "tidak")
                self.stdout.write(f"{e.household_public_id}\t{shown}\trow {e.row}")
            return
        for imp in community.imports_visible(user):
            self.stdout.write(
                f"{imp.public_id}\t{imp.kind}\t{imp.created_at:%Y-%m-%d %H:%M}\t"
                f"{imp.created_by_label}\t{imp.rows_used}/{imp.rows_read} rows\t"
                f"{len(imp.villages)} villages\t{imp.file_name}"
            )
        cov = community.coverage(user=user)
        if cov:
            self.stdout.write(f"{'village':12s} {'households':>10s} {'ranked':>7s} import")
        for c in cov:
            self.stdout.write(
                f"{c.village_code:12s} {c.households:10d} {c.ranked:7d} {c.import_public_id} "
                f"({c.kind}) {c.village_name}"
            )

    def _compare(self, o: dict[str, Any]) -> None:
        rule = hybrid.HybridRule(kind=o["rule"], k=o["k"], weight=o["weight"])
        run = selectors.run_get(public_id=o["run"]) if o["run"] else None
        result = community.community_compare(
            acting_user=acting_user(o["user"]), rule=rule, quota=o["quota"], run=run,
            target_share=o["target_share"],
        )  # fmt: skip
        if o["json"]:
            self.stdout.write(json.dumps(result, indent=2, sort_keys=True))
            return
        for line in compare_lines(result):
            self.stdout.write(line)


def compare_lines(r: dict[str, Any]) -> list[str]:
    """The three lists side by side, as the command prints them."""
    v, h = r["villages"], r["households"]
    lines = [
        f"Run {r['run']} (PMT v{r['model_version']}), quota {r['quota']} per village, "
        f"hybrid rule {r['rule_label']}",
        f"villages: {v['total']} ({v['with_community']} with a community ranking, "
        f"{v['fallback']} fall back to the PMT); households: {h['total']} "
        f"({h['ranked']} ranked, {h['with_truth']} with truth)",
    ]
    if r.get("target_share") is not None:
        lines.append(f"target: the poorest {r['target_share']:.0%} by true consumption")
    head = f"{'':34s} {'PMT':>9s} {'community':>9s} {'hybrid':>9s}"
    lines.append(head)
    lists = r["lists"]
    lines.append(
        f"{'selected':34s} " + " ".join(f"{lists[k]['selected']:9d}" for k in hybrid.LISTS)
    )
    for block, title in (("all", "all villages"), ("ranked_villages", "ranked villages")):
        if not lists["pmt"].get(block):
            continue
        for metric in ("mistargeting", "inclusion_error", "exclusion_error"):
            cells = []
            for k in hybrid.LISTS:
                value = (lists[k].get(block) or {}).get(metric)
                cells.append(f"{value:9.3f}" if value is not None else f"{'-':>9s}")
            lines.append(f"{metric + ' (' + title + ')':34s} " + " ".join(cells))
    if r.get("target_share") is None:
        lines.append("no truth loaded: errors not measured (`tepat targeting truth-load`)")
    a = r["agreement"]

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    lines.append(
        f"agreement (overlap): PMT-community {pct(a['pmt_community'])}, PMT-hybrid "
        f"{pct(a['pmt_hybrid'])}, community-hybrid {pct(a['community_hybrid'])}"
    )
    rc = r.get("rank_correlation")
    if rc:
        lines.append(
            f"rank correlation with consumption within villages: PMT {pct(rc['pmt'])}, "
            f"community {pct(rc['community'])}"
        )
    return lines
