"""`tepat privacy purge [--dry-run] [--report FILE]`: apply the retention schedule.
`tepat privacy records [--part catatan|pemroses|retensi] [--format json|csv] [--out FILE]`:
export the records of processing, the processor register or the retention schedule.
`tepat privacy check`: the declarations are valid and every model is declared.

Run the purge daily from cron (or a systemd timer), e.g.
    17 2 * * *  tepat privacy purge --no-progress --report /var/log/tepat/purge-latest.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tepat.core.errors import TepatError
from tepat.privacy import declarations, records, retention


class Command(BaseCommand):
    help = (
        "Pelindungan data pribadi: bersihkan data lewat masa simpan, ekspor catatan pemrosesan / "
        "personal data protection: purge expired data, export the records of processing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        purge = sub.add_parser("purge", help="apply the retention schedule")
        purge.add_argument(
            "--dry-run", action="store_true", help="count what is due, change nothing"
        )
        purge.add_argument("--report", metavar="FILE", help="write the report as JSON to FILE")
        purge.add_argument("--batch", type=int, default=retention.DEFAULT_BATCH,
                           help="rows per transaction")  # fmt: skip
        purge.add_argument("--rule", action="append", default=[], metavar="KEY",
                           help="only this rule (repeatable)")  # fmt: skip
        purge.add_argument("--no-progress", action="store_true", help="no progress bars")
        rec = sub.add_parser("records", help="export the records of processing")
        rec.add_argument("--part", choices=records.PARTS, default="catatan",
                         help="catatan (records), pemroses (processors), retensi (retention)")  # fmt: skip
        rec.add_argument("--format", choices=records.FORMATS, default="json")
        rec.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
        sub.add_parser("check", help="check the declarations; fail on any problem")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            getattr(self, f"_{opts['action']}")(opts)
        except declarations.DeclarationError as exc:
            raise CommandError(str(exc)) from exc
        except TepatError as exc:
            raise CommandError(exc.message) from exc

    def _purge(self, opts: dict[str, Any]) -> None:
        report = retention.retention_purge(
            dry_run=opts["dry_run"],
            batch=opts["batch"],
            only=opts["rule"],
            progress=not opts["no_progress"] and sys.stderr.isatty(),
        )
        w = self.stdout.write
        w(f"{'rule':34} {'action':9} {'keep':>6} {'before':>10} {'due':>10} {'done':>10} "
          f"{'after':>10}  oldest kept")  # fmt: skip
        for r in report.results:
            w(f"{r.key:34} {r.action:9} {r.keep_days:>5}d {r.before:>10} {r.due:>10} "
              f"{r.processed:>10} {r.after:>10}  {r.oldest_kept or '-'}"
              + (f"  ERROR {r.error}" if r.error else ""))  # fmt: skip
        due = sum(r.due for r in report.results if r.action != "manual")
        manual = sum(r.due for r in report.results if r.action == "manual")
        if report.dry_run:
            w(f"dry run: {due} row(s) due, nothing changed")
        else:
            w(f"{report.processed} row(s) processed of {due} due")
        if manual:
            w(f"{manual} audit row(s) past their period: archive them (see the rule's reason)")
        if opts["report"]:
            Path(opts["report"]).write_text(json.dumps(report.as_dict(), indent=2) + "\n")
            w(f"report written to {opts['report']}")
        if not report.ok:
            raise CommandError("some rules failed: see ERROR above")

    def _records(self, opts: dict[str, Any]) -> None:
        register = declarations.collect()
        body, _type, _name = records.export(register, part=opts["part"], fmt=opts["format"])
        if opts["out"]:
            Path(opts["out"]).write_bytes(body)
            self.stdout.write(f"written to {opts['out']}")
        else:
            self.stdout.write(body.decode("utf-8-sig"), ending="")

    def _check(self, opts: dict[str, Any]) -> None:
        register = declarations.collect(strict=False)
        problems = list(register.problems)
        problems += [f"{m} is not declared in any privacy.py" for m in
                     declarations.undeclared_models(register)]  # fmt: skip
        problems += declarations.suspicious_no_personal_data(register)
        if problems:
            raise CommandError("privacy declarations:\n- " + "\n- ".join(problems))
        self.stdout.write(
            f"{len(register.activities)} activities, {len(register.recipients)} recipients, "
            f"{len(register.retention)} retention rules: ok"
        )
