#!/usr/bin/env python3
"""Data-subject access export (UU 27/2022 Art. 7, 13; answered within 3x24 hours, Art. 32):
the time to build one household's copy and render it as JSON, CSV (zip) and PDF, for one
household (median of `--repeat` runs) and for `--queue` households in a row, as a queue of that
many access requests would be answered one after the other.

The region is built the way `tepat demo` builds it, through the services: `tepat synth` people
for one regency (`--persons`), the registry loaded from its files, the agency sources imported
and linked (golden records, flags), a PMT calibrated on the synthetic survey and every household
scored into desil, a PKH tahap computed, approved by a second person, issued and paid through
the worker path (ledger entries, SMS), the ledger sequenced and signed, a complaint filed by one
household in five, and a sign-in code asked by one head in ten.

Baseline in the same run: what the citizen's account page reads for the same household
(`household_view`, `payment_history`, `family`), so the ratio says what the full copy costs on
top of the page a citizen already opens.

    .venv/bin/python benchmarks/bench_access_export.py \\
        --database-url sqlite:///var/bench-access/tepat.sqlite3 --persons 8000

`--reuse` measures again on the database a previous run built.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
REGENCY = "3273"  # Kota Bandung


def timed(fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def step(label: str, fn: Callable[[], Any]) -> Any:
    seconds, out = timed(fn)
    print(f"  {label}: {seconds:.1f} s", flush=True)
    return out


def build(args: argparse.Namespace) -> None:
    import tepat.targeting
    from tepat.accounts.services import user_create
    from tepat.grievances.services import complaint_submit
    from tepat.integration.services import integration_build_from_synth
    from tepat.ledger.services import ledger_sequence
    from tepat.payments import services as pay
    from tepat.payments.providers import Outcome
    from tepat.programs import services as programs
    from tepat.regions.services import regions_load
    from tepat.registry.loading import registry_load_directory
    from tepat.registry.models import Household, Person
    from tepat.synth.services import generate
    from tepat.targeting import services as targeting
    from tepat.targeting.models import HouseholdScore

    out = args.work / f"synth-{REGENCY}-{args.persons}-{args.seed}"
    step("regions", lambda: regions_load(progress=False))
    step(
        f"synth {args.persons:,} persons",
        lambda: generate(
            region_code=REGENCY, persons=args.persons, seed=args.seed, out_dir=out, progress=False
        ),
    )
    step(
        "registry load",
        lambda: registry_load_directory(
            acting_user=None, directory=out / "registry", source=f"synth:{REGENCY}"
        ),
    )
    if not args.no_integration:
        step(
            "agency sources (import, linkage, golden records, flags)",
            lambda: integration_build_from_synth(synth_dir=out, progress=False),
        )
    password = secrets.token_urlsafe(16)
    admin = user_create(acting_user=None, username="b_admin", password=password, role="admin")
    operator = user_create(
        acting_user=None, username="b_op", password=password, role="operator",
        region_codes=[REGENCY],
    )  # fmt: skip
    supervisor = user_create(
        acting_user=None, username="b_spv", password=password, role="supervisor",
        region_codes=[REGENCY],
    )  # fmt: skip
    spec = Path(tepat.targeting.__file__).parent / "specs" / "synth_survey.toml"
    model = step(
        "PMT calibration",
        lambda: targeting.pmt_calibrate(
            acting_user=supervisor, survey_path=out / "sources" / "survey.csv", spec_path=spec
        ),
    )
    step("scoring", lambda: targeting.scoring_run(acting_user=supervisor, model=model))
    desil = dict(HouseholdScore.objects.values_list("household_id", "desil_national"))
    households = Household.objects.count()

    def pay_one_tahap() -> int:
        programme = programs.programme_create(
            acting_user=admin, code="PKH-BENCH", name="Program Keluarga Harapan", kind="pkh",
            eligibility_rule="desil <= 5", effective_from=dt.date(2026, 1, 1),
            effective_to=dt.date(2026, 12, 31), params={},
        )  # fmt: skip
        cycle = programs.cycle_create(
            acting_user=operator, programme=programme, code="2026-T1", instalment=1,
            period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 3, 31),
            control_count=households, control_amount=households * 10_000_000,
        )  # fmt: skip
        programs.cycle_compute(acting_user=operator, cycle=cycle, desil=desil)
        programs.cycle_submit(acting_user=operator, cycle=cycle)
        programs.cycle_approve(acting_user=supervisor, cycle=cycle)
        issued = pay.payments_issue(acting_user=operator, cycle=cycle)
        while claimed := pay.payments_claim(worker="bench", batch=1000, lease_s=300):
            pay.payments_record(
                worker="bench",
                claimed=claimed,
                outcomes=[Outcome(c.key, "succ", amount=c.amount) for c in claimed],
            )
        return issued

    issued = step("PKH tahap: compute, approve, issue, pay", pay_one_tahap)
    step("ledger sequence and sign", lambda: ledger_sequence(max_batch=100_000))
    heads = list(
        Person.objects.filter(relationship="head")
        .order_by("id")
        .values_list("public_id", "nik_index")
    )
    village = dict(Household.objects.values_list("members__public_id", "village_id"))

    def complaints() -> None:
        for i, (ref, _) in enumerate(heads[::5]):
            complaint_submit(
                submission_key=f"bench{i:08d}",
                category="amount",
                village_code=village[ref],
                description="Nominal bantuan tahap ini tidak sesuai dengan yang diumumkan.",
                filed_by_ref=ref,
            )

    step("complaints (one household in five)", complaints)
    from tepat.portal.models import CitizenOtp

    def codes() -> None:
        # As `otp_request` leaves a code: keyed by the NIK's blind index (the export reads the
        # codes back by it); the NIKs themselves are only in the synth files.
        for _, index in heads[::10]:
            CitizenOtp.objects.create(
                nik_index=index, code_hash="x$y", expires_at=dt.datetime.now(dt.UTC)
            )

    step("sign-in codes (one head in ten)", codes)
    print(f"built: {households:,} households, {issued:,} payments", flush=True)


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=20, help="runs for the one household")
    parser.add_argument("--queue", type=int, default=1000, help="households in a row")
    parser.add_argument(
        "--database-url", default=f"sqlite:///{ROOT / 'var' / 'bench-access' / 'tepat.sqlite3'}"
    )
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench-access")
    parser.add_argument("--no-integration", action="store_true", help="skip agency sources")
    parser.add_argument("--reuse", action="store_true", help="measure a previous run's database")
    args = parser.parse_args()

    if not args.reuse:
        if args.database_url.startswith("postgres"):
            dbname = args.database_url.rsplit("/", 1)[1]
            if not dbname.startswith("tepat_bench"):
                raise SystemExit(f"refusing to drop {dbname!r}: name it tepat_bench...")
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", dbname])
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", dbname], check=True)
        else:
            Path(args.database_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    args.work.mkdir(parents=True, exist_ok=True)
    os.environ["TEPAT_DATABASE_URL"] = args.database_url
    os.environ.setdefault("TEPAT_VAR_DIR", str(args.work / "var"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "tepat.config.settings"
    os.environ.setdefault("TEPAT_DEV", "true")  # this machine: generated keys, plain HTTP
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if not args.reuse:
        print("building the region:", flush=True)
        build(args)

    from tepat.portal import citizen
    from tepat.privacy import export
    from tepat.registry.models import Person
    from tepat.registry.selectors import household_view

    heads = list(
        Person.objects.filter(relationship="head").select_related("household").order_by("id")
    )
    paid = [p for p in heads if citizen.payment_history(person=p)][:1]
    one = paid[0] if paid else heads[0]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"machine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load}"
    )
    print(f"database: {connection.vendor} ({args.database_url.split('@')[-1]})")
    print(f"households: {len(heads):,}; fonts: {'DejaVu' if export._font_files() else 'core'}")

    def baseline(person: Any) -> None:
        household_view(household=person.household)
        citizen.payment_history(person=person)
        citizen.family(person=person)

    for _ in range(2):  # warm: imports, font cache, prepared plans
        baseline(one)
        data = export.subject_export(person=one, requested_by="bench")
        export.render_pdf(data)
    base: list[tuple[float, float]] = []
    phases: dict[str, list[tuple[float, float]]] = {"build": [], "json": [], "csv": [], "pdf": []}
    sizes: dict[str, int] = {}

    def clocked(fn: Callable[..., Any], *fn_args: Any) -> tuple[tuple[float, float], Any]:
        """(wall, CPU of this process) seconds, and the result."""
        c0 = time.process_time()
        wall, out = timed(fn, *fn_args)
        return (wall, time.process_time() - c0), out

    for _ in range(args.repeat):
        base.append(clocked(baseline, one)[0])
        spent, data = clocked(lambda: export.subject_export(person=one, requested_by="bench"))
        phases["build"].append(spent)
        for fmt, render in (
            ("json", export.render_json),
            ("csv", export.render_csv_zip),
            ("pdf", export.render_pdf),
        ):
            spent, blob = clocked(render, data)
            phases[fmt].append(spent)
            sizes[fmt] = len(blob)
    totals = [sum(v[i][0] for v in phases.values()) for i in range(args.repeat)]
    cpu_totals = [sum(v[i][1] for v in phases.values()) for i in range(args.repeat)]
    print(
        f"one household ({export.export_records(data)} rows, "
        f"{len(data['sections']['payments']['rows'])} payments), median of {args.repeat} "
        "(wall, and CPU of this process):"
    )
    for name, values in phases.items():
        size = f"  {sizes[name] / 1024:7.1f} KB" if name in sizes else ""
        wall_ms, cpu_ms = median_ms([w for w, _ in values]), median_ms([c for _, c in values])
        print(f"  {name:<6}{wall_ms}  CPU{cpu_ms}{size}")
    print(f"  total {median_ms(totals)}  CPU{median_ms(cpu_totals)}")
    base_wall, base_cpu = [w for w, _ in base], [c for _, c in base]
    print(
        f"  baseline (account page reads) {median_ms(base_wall)}  CPU{median_ms(base_cpu)}; "
        f"ratio {statistics.median(totals) / statistics.median(base_wall):.0f}x wall, "
        f"{statistics.median(cpu_totals) / statistics.median(base_cpu):.0f}x CPU"
    )

    queue = heads[: args.queue]
    if len(queue) < args.queue:
        print(f"(only {len(queue)} households: the queue is shorter than asked)")
    per: list[float] = []
    per_fmt: dict[str, float] = {"build": 0.0, "json": 0.0, "csv": 0.0, "pdf": 0.0}
    t0, c0 = time.perf_counter(), time.process_time()
    for person in queue:
        t1 = time.perf_counter()
        s, data = timed(
            lambda person=person: export.subject_export(person=person, requested_by="bench")
        )
        per_fmt["build"] += s
        per_fmt["json"] += timed(export.render_json, data)[0]
        per_fmt["csv"] += timed(export.render_csv_zip, data)[0]
        per_fmt["pdf"] += timed(export.render_pdf, data)[0]
        per.append(time.perf_counter() - t1)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    ordered = sorted(per)
    print(f"{len(queue)} households in a row (build + JSON + CSV + PDF each):")
    print(
        f"  wall {wall:.1f} s, {len(queue) / wall:.1f} requests/s; per request median "
        f"{statistics.median(per) * 1000:.1f} ms, p95 {ordered[int(0.95 * (len(ordered) - 1))] * 1000:.1f} ms"
    )
    print("  of which: " + ", ".join(f"{k} {v:.1f} s ({v / wall:.0%})" for k, v in per_fmt.items()))
    print(
        f"  CPU time of this process {cpu:.1f} s ({cpu / len(queue) * 1000:.0f} ms a request; "
        "SQLite's work included; the rest of the wall time is waiting for a CPU, and on "
        "PostgreSQL the server's work)"
    )
    print(f"  3x24-hour deadline: {72 * 3600 * len(queue) / wall:,.0f} requests per worker")


if __name__ == "__main__":
    main()
