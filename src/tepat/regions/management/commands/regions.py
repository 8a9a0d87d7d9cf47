"""`tepat regions load` and `tepat regions load-boundaries FILE --level ... --code-property ...`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from tepat.core.errors import TepatError
from tepat.regions.models import Level
from tepat.regions.selectors import region_names
from tepat.regions.services import (
    BOUNDARY_LEVELS,
    LIST_LIMIT,
    BoundaryLoadReport,
    regions_load_boundaries,
    regions_load_detailed,
)


class Command(BaseCommand):
    help = (
        "Wilayah Kemendagri: muat kode wilayah atau batas wilayah / load region codes or boundaries"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="{load,load-boundaries}"
        )
        load = actions.add_parser(
            "load",
            help="Muat atau perbarui semua kode wilayah / load or refresh every region code",
        )
        load.add_argument(
            "--no-progress", action="store_true", help="tanpa bilah kemajuan / no progress bar"
        )
        boundaries = actions.add_parser(
            "load-boundaries",
            help="Impor batas wilayah dari GeoJSON / import boundaries from a GeoJSON file",
        )
        boundaries.add_argument("file", help="GeoJSON FeatureCollection")
        boundaries.add_argument(
            "--level", required=True, choices=[str(level) for level in BOUNDARY_LEVELS]
        )
        boundaries.add_argument(
            "--code-property",
            required=True,
            help="properti fitur berisi kode Kemendagri / feature property holding the code",
        )
        boundaries.add_argument(
            "--source", default="", help="label sumber data / source label (default: file name)"
        )
        boundaries.add_argument(
            "--strict",
            action="store_true",
            help="tolak berkas bila ada kode tak dikenal / refuse the file on unknown codes",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "load":
                self._load(progress=not options["no_progress"] and options["verbosity"] > 0)
            else:
                self._load_boundaries(options)
        except TepatError as exc:
            raise CommandError(_format_error(exc)) from exc

    def _load(self, *, progress: bool) -> None:
        report = regions_load_detailed(progress=progress)
        for level in Level:
            self.stdout.write(f"{level.label} ({level.value}): {report.counts[level.value]:,}")
        self.stdout.write(
            _(
                "%(total)s wilayah; baru %(created)s, diperbarui %(updated)s, tetap %(unchanged)s "
                "(%(seconds).1f s) / regions; created, updated, unchanged"
            )
            % {
                "total": f"{report.total:,}",
                "created": f"{report.created:,}",
                "updated": f"{report.updated:,}",
                "unchanged": f"{report.unchanged:,}",
                "seconds": report.seconds,
            }
        )

    def _load_boundaries(self, options: dict[str, Any]) -> None:
        report = regions_load_boundaries(
            path=options["file"],
            level=options["level"],
            code_property=options["code_property"],
            source=options["source"],
            strict=options["strict"],
        )
        self._write_boundary_report(report)

    def _write_boundary_report(self, report: BoundaryLoadReport) -> None:
        self.stdout.write(
            _(
                "%(features)d fitur; cocok %(matched)d (baru %(created)d, diperbarui %(updated)d) "
                "/ features; matched (created, updated)"
            )
            % {
                "features": report.features,
                "matched": report.matched,
                "created": report.created,
                "updated": report.updated,
            }
        )
        if report.unmatched:
            shown = ", ".join(f"#{i}: {raw}" for i, raw in report.unmatched[:LIST_LIMIT])
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Kode tidak cocok dengan wilayah mana pun (%(n)d) / "
                        "codes matching no region: %(codes)s%(more)s"
                    )
                    % {
                        "n": len(report.unmatched),
                        "codes": shown,
                        "more": _more(len(report.unmatched)),
                    }
                )
            )
        if report.missing:
            names = region_names(report.missing[:LIST_LIMIT])
            shown = ", ".join(
                f"{c} {names.get(c, '')}".strip() for c in report.missing[:LIST_LIMIT]
            )
            self.stdout.write(
                self.style.WARNING(
                    _("Wilayah tanpa batas (%(n)d) / regions without a boundary: %(codes)s%(more)s")
                    % {"n": len(report.missing), "codes": shown, "more": _more(len(report.missing))}
                )
            )
        if not report.unmatched and not report.missing:
            self.stdout.write(
                self.style.SUCCESS(_("Semua wilayah punya batas / every region has a boundary"))
            )


def _more(total: int) -> str:
    if total <= LIST_LIMIT:
        return ""
    return _(" … dan %(n)d lagi / and %(n)d more") % {"n": total - LIST_LIMIT}


def _format_error(exc: TepatError) -> str:
    if not exc.problems:
        where = f" [{exc.field}]" if exc.field and exc.field not in exc.message else ""
        return f"{exc.message}{where}"
    lines = [
        _("Berkas ditolak, tidak ada yang disimpan / file refused, nothing was saved:"),
        *(f"  {p.field}: {p.message}" for p in exc.problems[:LIST_LIMIT]),
    ]
    if len(exc.problems) > LIST_LIMIT:
        lines.append(" " + _more(len(exc.problems)).strip())
    return "\n".join(lines)
