"""`tepat synth`: write a synthetic region (registry baseline, agency sources, truth)."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tepat.synth import survey_dgp2
from tepat.synth.regions import UnknownRegionError
from tepat.synth.services import DEFAULT_AS_OF, generate


class Command(BaseCommand):
    help = (
        "Buat populasi sintetis untuk satu provinsi atau kabupaten/kota / "
        "Generate a synthetic population for a province or regency."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--region", required=True, help="kode provinsi/kabupaten: 32, 3273, 32.73"
        )
        parser.add_argument("--persons", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--out", required=True, help="output directory")
        parser.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            default=DEFAULT_AS_OF,
            help=f"reference date YYYY-MM-DD (default {DEFAULT_AS_OF.isoformat()})",
        )
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument(
            "--survey2",
            type=int,
            default=0,
            metavar="N",
            help="juga tulis survei kedua (proses pembangkit lain, N rumah tangga) / also write "
            "a second survey from another data-generating process (N households): "
            "sources/survey2.csv, sources/survey2.toml, truth/survey2.csv",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["persons"] < 10:
            raise CommandError("--persons harus minimal 10 / must be at least 10")
        if options["survey2"] and options["survey2"] < 10:
            raise CommandError("--survey2 harus minimal 10 / must be at least 10")
        try:
            manifest = generate(
                region_code=options["region"],
                persons=options["persons"],
                seed=options["seed"],
                out_dir=options["out"],
                progress=not options["no_progress"],
                as_of=options["as_of"],
            )
        except UnknownRegionError as exc:
            raise CommandError(str(exc)) from exc
        if options["survey2"]:
            survey_dgp2.write_into_synth(
                Path(options["out"]), households=options["survey2"], seed=options["seed"]
            )
        region = manifest["region"]
        self.stdout.write(
            f"Selesai / done: {region['name']} ({region['code']}), "
            f"{manifest['counts']['registry/persons.csv']} orang, "
            f"{manifest['summary']['households']} keluarga -> {options['out']}"
        )
