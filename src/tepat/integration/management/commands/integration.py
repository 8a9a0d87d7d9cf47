from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tepat.core.errors import TepatError
from tepat.integration.selectors import sources_list
from tepat.integration.services import (
    integration_build_from_synth,
    source_save,
    sources_ensure_builtin,
)


class Command(BaseCommand):
    help = "Integrasi data / data integration: sources, source-add, build-synth"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("sources", help="list configured sources")
        add = sub.add_parser("source-add", help="add or update a source from a JSON config")
        add.add_argument("config", type=Path)
        build = sub.add_parser("build-synth", help="import + link the sources of `tepat synth`")
        build.add_argument("directory", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "sources":
            sources_ensure_builtin()
            for s in sources_list():
                cfg = s.config
                self.stdout.write(
                    f"{s.key:<14} {cfg['format']:<5} precedence={s.precedence:<4} "
                    f"records={getattr(s, 'record_count', 0):<8} authoritative={','.join(cfg['authoritative_for']) or '-'}"
                )
        elif action == "source-add":
            try:
                config = json.loads(options["config"].read_text(encoding="utf-8"))
                source = source_save(acting_user=None, config=config)
            except (ValueError, TepatError) as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"sumber/source {source.key} disimpan/saved")
        elif action == "build-synth":
            report = integration_build_from_synth(synth_dir=options["directory"])
            self.stdout.write(json.dumps(report.__dict__, indent=2, default=str))
