"""Benchmark the public side at scale: aggregate refresh, open-data export, page weight.

Builds its own database (PostgreSQL by default, `--database-url sqlite:///...` for SQLite) with
every Kemendagri region, `--persons` persons in households of four across the villages of one
province, two distributed PKH cycles entitling 40% of households each, and one payment per
entitlement (85% paid, 3% failed). Rows are written with COPY / executemany, not through the
registry services: what is measured is the reading side, not the load.

Baselines measured in the same run:
- refresh: the bare GROUP BY over entitlements and payments that any refresh must do;
- export: reading the same recipient rows and writing a CSV with no name join, masking or hash;
- page weight: the portal home page, which carries the same base template and design system.

    .venv/bin/python benchmarks/bench_transparency.py --persons 1000000
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
GIVEN = ["Siti", "Dewi", "Agus", "Budi", "Asep", "Ujang", "Nur", "Rina", "Dedi", "Yanti", "Eka"]
FAMILY = ["Sunandar", "Rahmawati", "Hidayat", "Suryana", "Lestari", "Kurniawan", "Wibowo"]


def timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def build(persons: int, province: str, seed: int) -> dict[str, int]:
    from django.utils import timezone

    from tepat.core.bulk import bulk_insert, fill_ids
    from tepat.core.ids import new_public_id
    from tepat.payments.models import Payment
    from tepat.programs.models import Cycle, Entitlement, Programme
    from tepat.regions.models import Region
    from tepat.registry.models import Household, Person

    rng = random.Random(seed)
    villages = list(
        Region.objects.filter(level="village", code__startswith=province).values_list(
            "code", flat=True
        )
    )
    now = timezone.now()
    n_households = persons // 4
    households = [
        Household(
            public_id=new_public_id(),
            kk_enc="bench",
            kk_index=f"kk{i:010d}",
            village_id=villages[rng.randrange(len(villages))],
            created_at=now,
            updated_at=now,
        )
        for i in range(n_households)
    ]
    bulk_insert(Household, households)
    fill_ids(Household, households)
    heads: list[Person] = []
    batch: list[Person] = []
    for h_index, household in enumerate(households):
        for m in range(4):
            name = f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"
            person = Person(
                public_id=new_public_id(),
                nik_enc="bench",
                nik_index=f"nik{h_index:09d}{m}",
                household_id=household.pk,
                relationship="head" if m == 0 else "child",
                full_name=name,
                name_search=name.lower(),
                sex="F",
                birth_date=dt.date(1980, 1, 1),
                created_at=now,
                updated_at=now,
            )
            batch.append(person)
            if m == 0:
                heads.append(person)
        if len(batch) >= 100_000:
            bulk_insert(Person, batch)
            batch = []
    bulk_insert(Person, batch)
    programme = Programme.objects.create(
        code="PKH-2026",
        name="Program Keluarga Harapan",
        kind="pkh",
        eligibility_rule="desil <= 4",
        effective_from=dt.date(2026, 1, 1),
    )
    entitled = 0
    for code in ("2026-T3", "2026-T4"):
        cycle = Cycle.objects.create(
            programme=programme,
            code=code,
            state="distributed",
            period_start=dt.date(2026, 7, 1),
            period_end=dt.date(2026, 12, 31),
            control_count=10**7,
            control_amount=10**13,
        )
        chosen = [i for i in range(n_households) if rng.random() < 0.4]
        entitlements = [
            Entitlement(
                public_id=new_public_id(),
                cycle_id=cycle.pk,
                household_id=households[i].pk,
                household_ref=households[i].public_id,
                beneficiary_ref=heads[i].public_id,
                village_code=households[i].village_id,
                amount=rng.choice([750_000, 900_000, 1_500_000]),
                inputs={},
                state="approved",
            )
            for i in chosen
        ]
        bulk_insert(Entitlement, entitlements)
        fill_ids(Entitlement, entitlements)
        payments = []
        for e in entitlements:
            roll = rng.random()
            payments.append(
                Payment(
                    public_id=new_public_id(),
                    payment_key=f"{code}-{e.public_id}",
                    cycle_id=cycle.pk,
                    entitlement_id=e.pk,
                    beneficiary_ref=e.beneficiary_ref,
                    village_code=e.village_code,
                    amount=e.amount,
                    channel="bank",
                    provider="BRI",
                    payee_fa_enc="bench",
                    payee_fa_masked="********1234",
                    state="paid" if roll < 0.85 else "failed" if roll < 0.88 else "sent",
                    next_attempt_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
        bulk_insert(Payment, payments)
        entitled += len(entitlements)
    return {"households": n_households, "villages": len(villages), "entitlements": entitled}


def baseline_group_by() -> int:
    from django.db.models import Count, Sum

    from tepat.payments.models import Payment
    from tepat.programs.models import Entitlement

    a = list(
        Entitlement.objects.order_by()
        .values("cycle_id", "village_code")
        .annotate(n=Count("id"), s=Sum("amount"))
    )
    b = list(
        Payment.objects.filter(state="paid")
        .order_by()
        .values("cycle_id", "village_code")
        .annotate(n=Count("id"), s=Sum("amount"))
    )
    return len(a) + len(b)


def baseline_export(out: Path) -> int:
    from tepat.programs.models import Entitlement

    rows = Entitlement.objects.order_by("village_code").values_list(
        "village_code", "cycle__programme__code", "cycle__code", "beneficiary_ref"
    )
    n = 0
    with (out / "baseline.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        for row in rows.iterator(chunk_size=5000):
            writer.writerow(row)
            n += 1
    return n


def page_weight(client: Any, url: str) -> dict[str, int]:
    """HTML plus every same-site stylesheet and script it references, raw and gzipped."""
    from django.contrib.staticfiles import finders

    response = client.get(url)
    html = response.content
    total, total_gz = len(html), len(gzip.compress(html))
    for ref in re.findall(rb'(?:href|src)="(/static/[^"]+)"', html):
        path = finders.find(ref.decode()[len("/static/") :])
        if path and not ref.endswith((b".svg", b".ico")):
            data = Path(path).read_bytes()
            total += len(data)
            total_gz += len(gzip.compress(data))
    return {"html": len(html), "total": total, "total_gzip": total_gz}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--province", default="32")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/tepat_transp_bench"
    )
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench-transparency")
    parser.add_argument(
        "--reuse", action="store_true", help="measure on the database a previous run built"
    )
    args = parser.parse_args()

    if args.reuse:
        pass
    elif args.database_url.startswith("postgres"):
        dbname = args.database_url.rsplit("/", 1)[1]
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
    from django.test import Client

    from tepat.regions.services import regions_load, regions_load_boundaries
    from tepat.transparency.models import AggregateCell
    from tepat.transparency.services import aggregates_refresh, opendata_export

    call_command("migrate", verbosity=0)
    if args.reuse:
        from tepat.programs.models import Entitlement
        from tepat.registry.models import Person

        print(
            f"reusing {Person.objects.count():,} persons, "
            f"{Entitlement.objects.count():,} entitlements"
        )
    else:
        seconds, _ = timed(regions_load)
        print(f"regions loaded in {seconds:.1f} s")
        seconds, built = timed(lambda: build(args.persons, args.province, args.seed))
        print(
            f"built {args.persons:,} persons, {built['households']:,} households in "
            f"{built['villages']:,} villages, {built['entitlements']:,} entitlements "
            f"(+ as many payments) in {seconds:.1f} s"
        )
    print(f"machine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"database: {args.database_url.split('@')[-1]}")

    base_s = [timed(baseline_group_by)[0] for _ in range(2)]
    refresh_s = []
    for _ in range(2):
        s, run = timed(aggregates_refresh)
        refresh_s.append(s)
    print(
        f"refresh: {min(refresh_s):.2f} s best of 2 ({run.cells:,} cells, {run.hidden:,} hidden); "
        f"baseline GROUP BY {min(base_s):.2f} s; ratio {min(refresh_s) / min(base_s):.1f}x"
    )
    from tepat.transparency.conf import opendata_dir

    opendata_dir().mkdir(parents=True, exist_ok=True)  # releases are written only under it
    with tempfile.TemporaryDirectory(dir=opendata_dir()) as tmp:
        base_export_s, n = timed(lambda: baseline_export(Path(tmp)))
        export_s, release = timed(lambda: opendata_export(out=Path(tmp)))
        files = {f["path"]: f for p in release.packages for f in p["files"]}
        print(
            f"export: {export_s:.2f} s; baseline plain CSV of {n:,} rows {base_export_s:.2f} s; "
            f"ratio {export_s / base_export_s:.1f}x"
        )
        for path, f in sorted(files.items()):
            rows = f" {f['rows']:,} rows" if "rows" in f else ""
            print(f"  {path}: {f['bytes'] / 1e6:.2f} MB{rows}")
        try:
            from frictionless import validate

            s, report = timed(
                lambda: validate(str(Path(release.directory) / "tepat-agregat/datapackage.json"))
            )
            print(f"  frictionless validate (aggregates): valid={report.valid} in {s:.1f} s")
        except ImportError:
            print("  frictionless not installed: validation skipped")

    from tepat.regions.models import RegionBoundary

    RegionBoundary.objects.all().delete()  # first the tile grid, then the loaded boundaries
    client = Client()
    cycle = AggregateCell.objects.filter(region_code="").values_list("cycle__public_id", flat=True)
    cycle_id = cycle.first()
    district = (
        AggregateCell.objects.filter(level="district").values_list("region_code", flat=True).first()
    )
    urls = {
        "nation": f"/transparansi/?tahap={cycle_id}",
        "province": f"/transparansi/?tahap={cycle_id}&wilayah={args.province}",
        "district": f"/transparansi/?tahap={cycle_id}&wilayah={district}",
    }
    for label, url in urls.items():
        client.get(url)
        times = [timed(lambda u=url: client.get(u))[0] * 1000 for _ in range(20)]
        print(f"page {label}: median {statistics.median(times):.1f} ms server time")
    home = page_weight(client, "/")
    nation = page_weight(client, urls["nation"])
    province = page_weight(client, urls["province"])
    print(
        f"weight baseline portal home: {home['total'] / 1e3:.0f} kB "
        f"({home['total_gzip'] / 1e3:.0f} kB gzip)"
    )
    for label, w in (("nation (tile grid)", nation), ("province", province)):
        print(
            f"weight {label}: HTML {w['html'] / 1e3:.0f} kB, total {w['total'] / 1e3:.0f} kB "
            f"({w['total_gzip'] / 1e3:.0f} kB gzip); {w['total_gzip'] / home['total_gzip']:.1f}x home"
        )
    geo = ROOT.parent / "shared" / "data" / "geo" / "cahyadsn_provinsi_38_lite.geojson"
    if geo.exists():
        regions_load_boundaries(path=geo, level="province", code_property="kode")
        mapped = page_weight(client, urls["nation"])
        g = client.get(f"/api/transparency/boundaries?cycle={cycle_id}").content
        total = mapped["total"] + len(g)
        total_gz = mapped["total_gzip"] + len(gzip.compress(g))
        print(
            f"weight nation with 38 province boundaries: {total / 1e3:.0f} kB "
            f"({total_gz / 1e3:.0f} kB gzip; GeoJSON {len(g) / 1e3:.0f} kB of it)"
        )


if __name__ == "__main__":
    main()
