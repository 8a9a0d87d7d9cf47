from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tepat.core.errors import TepatError
from tepat.registry.loading import registry_load_directory


class Command(BaseCommand):
    help = "Registri sosial / social registry: `tepat registry load DIR`"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser(
            "load",
            help="Muat households.csv + persons.csv (mis. keluaran `tepat synth`) / load a registry extract",
        )
        load.add_argument("directory", type=Path, help="folder with households.csv and persons.csv")
        load.add_argument("--source", default="", help="source label recorded in the history")
        load.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "load":
            directory: Path = options["directory"]
            source = options["source"] or f"file:{directory.resolve().name}"
            try:
                report = registry_load_directory(
                    acting_user=None,
                    directory=directory,
                    source=source,
                    progress=not options["no_progress"],
                )
            except TepatError as exc:
                lines = [str(p) for p in exc.problems] or [exc.message]
                raise CommandError(
                    "Muat registri ditolak, tidak ada yang disimpan / load refused, nothing saved:\n  "
                    + "\n  ".join(lines)
                ) from exc
            self.stdout.write(
                f"Dimuat / loaded: {report.households} rumah tangga, {report.persons} orang, "
                f"{report.financial_addresses} rekening in {report.seconds:.1f} s; "
                f"{report.warning_count} peringatan / warnings"
            )
            for w in report.warnings[:20]:
                self.stdout.write(f"  peringatan / warning: {w}")
