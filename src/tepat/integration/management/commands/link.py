from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tepat.integration.linkage import ENGINES
from tepat.integration.services import link_run_execute, sources_ensure_builtin


class Command(BaseCommand):
    help = "Tautkan rekaman / link records into persons and golden records (Splink)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--engine", choices=list(ENGINES), default=ENGINES[0])
        parser.add_argument(
            "--retrain", action="store_true", help="train a new model version instead of reusing"
        )
        parser.add_argument(
            "--incremental",
            action="store_true",
            help="only link records not linked yet (a new delivery) against the registry",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sources_ensure_builtin()
        run = link_run_execute(
            acting_user=None,
            engine=options["engine"],
            retrain=options["retrain"],
            incremental=options["incremental"],
            progress=True,
        )
        self.stdout.write(f"link run {run.public_id} ({run.engine}): {run.status}")
        self.stdout.write(json.dumps(run.stats, indent=2, default=str))
