"""`manage.py grievances escalate`: raise overdue complaints one level, lapse stale sanggah."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tepat.grievances.services import complaints_escalate, reports_lapse


class Command(BaseCommand):
    help = "Grievance deadlines: escalate overdue complaints and lapse unverified sanggah."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["escalate"])

    def handle(self, *args: Any, **options: Any) -> None:
        escalated = complaints_escalate()
        lapsed = reports_lapse()
        self.stdout.write(f"escalated {escalated} complaint(s); lapsed {lapsed} sanggah")
