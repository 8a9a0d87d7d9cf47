"""`tepat demo`: a realistic synthetic regency on the embedded database, with demo staff, region
boundaries for the public map, a few complaints and one cycle paid down the whole path (see
`tepat.demo.living`).

Idempotent: a second run reuses what the first built. Generated passwords and TOTP secrets are
kept in var/demo/accounts.json (mode 0600, git-ignored), never in the repository.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

import pyotp
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tepat.core.errors import TepatError
from tepat.core.money import format_rupiah

DEMO_STAFF = [
    # username, role, scopes (relative to the demo regency; "village" = its first village)
    ("admin", "admin", []),
    ("operator", "operator", ["regency"]),
    ("supervisor", "supervisor", ["regency"]),
    ("auditor", "auditor", []),
    ("petugas", "field_agent", ["village"]),
    ("operator_bogor", "operator", ["3201"]),
    ("ppdp", "dpo", []),  # the data protection officer: requests' oversight, incidents, audit
]


class Command(BaseCommand):
    help = "Bangun wilayah sintetis untuk demo / build a synthetic demo region and demo staff"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--regency", default="3273", help="Kemendagri regency code (default Kota Bandung)"
        )
        parser.add_argument("--persons", type=int, default=30000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--code", metavar="USERNAME", help="print the current TOTP code of a demo account"
        )
        parser.add_argument(
            "--addr",
            default=os.environ.get("DEMO_ADDR") or "127.0.0.1:8000",
            help="the address the app will be served on, as given to runserver (printed)",
        )
        parser.add_argument(
            "--boundaries",
            type=Path,
            default=None,
            help="folder with the province and regency GeoJSON (default ../shared/data/geo)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        demo_dir = Path(settings.VAR_DIR) / "demo"
        accounts_file = demo_dir / "accounts.json"
        if opts["code"]:
            self._print_code(accounts_file, opts["code"])
            return
        regency = opts["regency"].replace(".", "")
        started = time.monotonic()
        self.stdout.write("1/9 migrasi basis data / migrating the database")
        call_command("migrate", interactive=False, verbosity=0)

        from tepat.regions.models import Region
        from tepat.regions.services import regions_load

        self.stdout.write("2/9 memuat wilayah Kemendagri / loading Kemendagri regions")
        counts = regions_load(progress=True)
        self.stdout.write(f"    {counts}")
        from tepat.demo import living

        living.boundaries_load(
            directory=opts["boundaries"] or living.default_boundaries_dir(), say=self.stdout.write
        )
        region = Region.objects.filter(code=regency).first()
        if region is None or region.level != "regency":
            raise CommandError(
                f"Kode kabupaten/kota tidak dikenal / unknown regency code: {regency}"
            )

        from tepat.registry.models import Household

        source = f"synth:{regency}:seed{opts['seed']}"
        if Household.objects.filter(village__code__startswith=regency).exists():
            self.stdout.write(
                f"3/9 registri {region.name} sudah ada, dilewati / registry already built"
            )
            self.stdout.write("4/9 (dilewati / skipped)")
        else:
            from tepat.synth.services import generate

            out = demo_dir / f"synth-{regency}-{opts['seed']}"
            self.stdout.write(
                f"3/9 membuat {opts['persons']:,} penduduk sintetis {region.name} / generating synthetic people"
            )
            generate(
                region_code=regency,
                persons=opts["persons"],
                seed=opts["seed"],
                out_dir=out,
                progress=True,
            )
            self.stdout.write(
                f"    berkas sumber instansi / agency source files: {out / 'sources'}"
            )
            self.stdout.write("4/9 memuat registri / loading the registry")
            from tepat.registry.loading import registry_load_directory

            report = registry_load_directory(
                acting_user=None, directory=out / "registry", source=source, progress=True
            )
            self.stdout.write(
                f"    {report.households:,} rumah tangga, {report.persons:,} orang, "
                f"{report.warning_count} peringatan / warnings"
            )
            self.stdout.write(
                "    integrasi sumber instansi / integrating agency sources "
                "(impor, karantina, linkage, golden records)"
            )
            from tepat.integration.services import integration_build_from_synth

            build = integration_build_from_synth(synth_dir=out, acting_user=None, progress=True)
            self.stdout.write(
                f"    {len(build.imports)} sumber diimpor / sources imported, "
                f"{build.quarantined} baris dikarantina / rows quarantined, "
                f"{build.review_pairs} pasangan untuk ditinjau / pairs to review"
            )
        self.stdout.write("5/9 akun staf demo / demo staff accounts")
        accounts = self._ensure_staff(accounts_file, regency)
        self.stdout.write("6/9 PMT, desil dan program / PMT, desil and programmes")
        self._targeting_and_programmes(demo_dir / f"synth-{regency}-{opts['seed']}")
        self.stdout.write("7/9 pengaduan warga / citizens' complaints")
        living.complaints_seed(regency=regency, say=self.stdout.write)
        self.stdout.write(
            "8/9 satu tahap dibayar sampai tuntas / one cycle paid down the whole path"
        )
        living.provider_keys_ensure(demo_dir / "provider-sim")
        paid = living.paid_cycle(
            regency=regency, year=dt.date.today().year, demo_dir=demo_dir, say=self.stdout.write
        )
        if paid.cycle is None or paid.reason:
            self.stdout.write(f"    dilewati / skipped: {paid.reason}")
        else:
            self.stdout.write(
                f"    {paid.cycle.programme.code} {paid.cycle.code}: {paid.paid:,} KPM dibayar / "
                f"paid, {format_rupiah(paid.paid_amount)}; status {paid.cycle.get_state_display()}"
            )
        self.stdout.write("9/9 log transparansi dan data terbuka / transparency log and open data")
        living.ledger_and_opendata(say=self.stdout.write)
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(f"Selesai dalam {time.monotonic() - started:.0f} s / done.\n")
        self._print_accounts(accounts)
        example = living.recipient_example(
            synth_dir=demo_dir / f"synth-{regency}-{opts['seed']}", cycle=paid.cycle
        )
        self._print_tour(_browsable(opts["addr"]), paid, example)

    def _ensure_staff(self, accounts_file: Path, regency: str) -> dict[str, dict[str, str]]:
        from tepat.accounts.models import User
        from tepat.accounts.services import user_create
        from tepat.regions.models import Region

        village = (
            Region.objects.filter(level="village", code__startswith=regency)
            .order_by("code")
            .first()
        )
        accounts: dict[str, dict[str, str]] = {}
        if accounts_file.exists():
            accounts = json.loads(accounts_file.read_text(encoding="utf-8"))
        for username, role, scopes in DEMO_STAFF:
            if User.objects.filter(username=username).exists() and username in accounts:
                continue
            codes = []
            for scope in scopes:
                codes.append(
                    regency
                    if scope == "regency"
                    else (village.code if scope == "village" and village else scope)
                )
            password = secrets.token_urlsafe(12)
            totp = pyotp.random_base32()
            User.objects.filter(username=username).delete()
            user_create(
                acting_user=None,
                username=username,
                password=password,
                role=role,
                region_codes=codes,
                totp_secret=totp,
            )
            accounts[username] = {
                "password": password,
                "totp_secret": totp,
                "role": role,
                "regions": ",".join(codes),
            }
        accounts_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(accounts_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(accounts, fh, indent=2)
        return accounts

    def _targeting_and_programmes(self, synth_dir: Path) -> None:
        """Calibrate a PMT on the synthetic survey, score every household into desil, load the
        synthetic truth for evaluation, and create the year's standard programmes."""
        import tepat.targeting
        from tepat.accounts.models import User
        from tepat.programs.models import Programme
        from tepat.targeting import services as targeting
        from tepat.targeting.models import PmtModel

        supervisor = User.objects.get(username="supervisor")
        survey = synth_dir / "sources" / "survey.csv"
        model: PmtModel | None = None
        if not PmtModel.objects.exists() and survey.exists():
            spec = Path(tepat.targeting.__file__).parent / "specs" / "synth_survey.toml"
            try:
                model = targeting.pmt_calibrate(
                    acting_user=supervisor, survey_path=survey, spec_path=spec, name="demo"
                )
            except TepatError as exc:
                self.stdout.write(
                    f"    PMT dilewati / skipped: {exc.message} "
                    "(survei terlalu kecil; pakai --persons lebih besar / use more persons)"
                )
                model = None
        if model is not None:
            run = targeting.scoring_run(acting_user=supervisor, model=model, progress=True)
            targeting.truth_load(
                acting_user=supervisor,
                path=synth_dir / "truth" / "households.csv",
                source="synth truth",
            )
            ranking = synth_dir / "sources" / "community_ranking.csv"
            if ranking.exists():
                from tepat.targeting.community import community_import

                imported = community_import(
                    acting_user=supervisor, path=ranking, label="demo musyawarah desa"
                )
                self.stdout.write(
                    f"    musyawarah desa: {imported.rows_used:,} / {imported.rows_read:,} "
                    "baris dipakai / rows used (sisanya disisihkan dengan alasan / the rest set "
                    "aside with reasons)"
                )
            cv = model.metrics.get("cv", {})
            r2 = cv.get("r2")
            self.stdout.write(
                f"    PMT v{model.version}: R2={'-' if r2 is None else f'{r2:.2f}'}, "
                f"{run.scores.count():,} rumah tangga diberi desil / households ranked"
            )
            # A small demo has a small survey: say what the model card says, never hide it.
            for w in model.metrics.get("warnings", []):
                self.stdout.write(f"    peringatan / warning [{w.get('code')}]: {w.get('message')}")
        if not Programme.objects.exists():
            # The admin writes the programmes: whoever makes a programme may not approve its
            # cycles (maker-checker), and the demo's supervisor is the one who approves.
            call_command("programmes-seed", "--user", "admin", "--year", str(dt.date.today().year))

    def _print_tour(self, base: str, paid: Any, example: tuple[str, str] | None) -> None:
        from django.urls import reverse

        from tepat.grievances.models import Complaint
        from tepat.integration.models import ReviewPair

        pairs = ReviewPair.objects.filter(status=ReviewPair.Status.OPEN).count()
        complaints = Complaint.objects.count()
        stops = [
            (reverse("accounts:login"), "masuk staf / staff sign-in"),
            (reverse("transparency:dashboard"), "peta dan dasbor publik / public map and dashboard"),
            (reverse("integration:review"),
             f"{pairs} pasangan untuk ditinjau / pairs to review (operator)"),
            (reverse("grievances:inbox"), f"{complaints} pengaduan / complaints (operator)"),
        ]  # fmt: skip
        if paid.cycle is not None:
            stops.insert(1, (reverse("programs:cycle", args=[paid.cycle.public_id]),
                             "tahap yang sudah dibayar / the paid cycle"))  # fmt: skip
        self.stdout.write("Lihat / look at:")
        for path, what in stops:
            self.stdout.write(f"  {base}{path}  {what}")
        if example is not None:
            nik, name = example
            self.stdout.write(
                f"  {base}/cek/  cek status penerima sintetis / a synthetic recipient's status: "
                f"NIK {nik}, nama / name {name}"
            )

    def _print_accounts(self, accounts: dict[str, dict[str, str]]) -> None:
        self.stdout.write("Akun staf demo (hanya untuk demo) / demo staff accounts (demo only):")
        for username, acc in accounts.items():
            self.stdout.write(
                f"  {username:<15} peran/role={acc['role']:<12} wilayah/regions={acc['regions'] or '-':<12} "
                f"sandi/password={acc['password']}  TOTP={acc['totp_secret']}"
            )
        self.stdout.write(
            "Kode TOTP: tambahkan rahasia TOTP ke aplikasi autentikator, atau jalankan / "
            "TOTP code: add the secret to an authenticator app, or run:\n"
            "  TEPAT_DEV=true .venv/bin/tepat demo --code operator"
        )

    def _print_code(self, accounts_file: Path, username: str) -> None:
        if not accounts_file.exists():
            raise CommandError("Jalankan `make demo` dulu / run `make demo` first")
        accounts = json.loads(accounts_file.read_text(encoding="utf-8"))
        if username not in accounts:
            raise CommandError(f"Bukan akun demo / not a demo account: {username}")
        self.stdout.write(pyotp.TOTP(accounts[username]["totp_secret"]).now())


def _browsable(addr: str) -> str:
    """The URL a browser on this machine opens for runserver's `addr` ("8123", "0.0.0.0:8123",
    "[::]:8123" or "host:port"): a wildcard host is reached at the loopback address."""
    addr = addr.strip()
    host, sep, port = addr.rpartition(":")
    if not sep:
        host, port = "", addr
    if host in ("", "0.0.0.0", "[::]", "0"):  # noqa: S104 - read, not bound
        host = "127.0.0.1"
    return f"http://{host}:{port}"
