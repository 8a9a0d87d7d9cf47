from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tepat.core.errors import TepatError
from tepat.integration.services import (
    import_file,
    import_progress_callback,
    sources_ensure_builtin,
)


class Command(BaseCommand):
    help = "Impor berkas sumber / import an agency file: `tepat import SOURCE FILE`"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "source", help="source key, e.g. dukcapil (see `tepat integration sources`)"
        )
        parser.add_argument("file", type=Path)
        parser.add_argument("--delivered-on", type=dt.date.fromisoformat, default=None)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"Berkas {path} tidak ada / file not found")
        sources_ensure_builtin()
        try:
            result = import_file(
                acting_user=None,
                source_key=options["source"],
                file_name=path.name,
                data=path.read_bytes(),
                delivered_on=options["delivered_on"],
                progress=None if options["no_progress"] else import_progress_callback(path.name),
            )
        except TepatError as exc:
            raise CommandError(exc.message) from exc
        run = result.run
        if result.duplicate:
            self.stdout.write(
                f"Berkas sudah diimpor (run {run.public_id}), tidak ada perubahan / "
                "already imported, nothing changed"
            )
            return
        self.stdout.write(
            f"run {run.public_id}: {run.accepted_rows} diterima/accepted, "
            f"{run.rejected_rows} dikarantina/quarantined, {run.warning_count} peringatan/warnings"
        )
