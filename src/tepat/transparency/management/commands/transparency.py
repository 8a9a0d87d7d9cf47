"""`tepat transparency refresh|export`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tepat.transparency import services


class Command(BaseCommand):
    help = "Public transparency: refresh the dashboard aggregates, export open data."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        refresh = sub.add_parser("refresh", help="recompute the published aggregate cells")
        refresh.add_argument(
            "--threshold", type=int, default=None, help="small-cell threshold (default: setting)"
        )
        export = sub.add_parser("export", help="write today's Frictionless data packages")
        export.add_argument("--out", type=Path, default=None, help="folder (default var/opendata)")
        export.add_argument("--refresh", action="store_true", help="refresh the aggregates first")

    def handle(self, *args: Any, **opts: Any) -> None:
        started = time.perf_counter()
        if opts["action"] == "refresh" or opts.get("refresh"):
            run = services.aggregates_refresh(threshold=opts.get("threshold"))
            self.stdout.write(
                f"refreshed {run.cells} cells ({run.hidden} hidden, threshold {run.threshold}) "
                f"in {time.perf_counter() - started:.2f}s"
            )
        if opts["action"] == "export":
            release = services.opendata_export(out=opts["out"])
            for package in release.packages:
                for f in package["files"]:
                    rows = f" {f['rows']} rows" if "rows" in f else ""
                    self.stdout.write(f"{release.directory}/{f['path']}: {f['bytes']} bytes{rows}")
            self.stdout.write(
                f"release {release.public_id} in {time.perf_counter() - started:.2f}s"
            )
