"""`tepat programmes-seed --year 2026 --user NAME`: the standard PKH, Sembako and BLT programmes
of a year with the anchor amounts (a starting point; amounts are data, edit them per year)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tepat.core.errors import TepatError
from tepat.programs import services

STANDARD: tuple[tuple[str, str, str, str, dict[str, Any]], ...] = (
    ("PKH", "Program Keluarga Harapan", "pkh", "desil <= 4", {}),
    (
        "SEMBAKO",
        "Program Sembako (BPNT)",
        "sembako",
        "desil <= 5",
        {"channels": ["bank", "cash_pos"]},
    ),
    (
        "BLT",
        "Bantuan Langsung Tunai",
        "blt",
        "desil <= 4",
        {"monthly": 300_000, "months_per_tahap": 3, "months": 3},
    ),
)


class Command(BaseCommand):
    help = "Buat program standar setahun / create the standard programmes of a year."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, default=dt.date.today().year)
        parser.add_argument("--user", required=True, help="a supervisor or admin username")

    def handle(self, *args: Any, **o: Any) -> None:
        user = get_user_model().objects.filter(username=o["user"]).first()
        if user is None:
            raise CommandError(f"no user {o['user']!r}")
        year = o["year"]
        for code, name, kind, rule, params in STANDARD:
            try:
                p = services.programme_create(
                    acting_user=user, code=f"{code}-{year}", name=f"{name} {year}", kind=kind,
                    eligibility_rule=rule, effective_from=dt.date(year, 1, 1),
                    effective_to=dt.date(year, 12, 31), params=params,
                )  # fmt: skip
            except TepatError as exc:
                self.stderr.write(f"{code}-{year}: {exc.message}")
            else:
                self.stdout.write(f"{p.code}: {p.public_id}")
