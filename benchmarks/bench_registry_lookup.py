#!/usr/bin/env python3
"""Registry lookup by NIK with N persons (default 1M) on PostgreSQL: median and p99 in ms.

    .venv/bin/python benchmarks/bench_registry_lookup.py --persons 1000000 \
        --database-url postgres://postgres@127.0.0.1:5432/tepat_bench

Builds the registry once (tepat synth + registry load, timed and reported) into the given
database, then times `person_search(nik=...)` (blind index + query + decrypt for masking) for
existing and absent NIKs, against a baseline measured in the same run: a primary-key fetch of a
random person. Re-runs reuse the loaded registry.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--region", default="32", help="province or regency to synthesise")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/tepat_bench")
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench")
    args = parser.parse_args()

    if args.database_url.startswith("postgres"):
        dbname = args.database_url.rsplit("/", 1)[1]
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-U", "postgres", dbname], capture_output=True
        )
    os.environ["TEPAT_DATABASE_URL"] = args.database_url
    os.environ.setdefault("TEPAT_VAR_DIR", str(args.work / "var"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "tepat.config.settings"
    os.environ.setdefault("TEPAT_DEV", "true")  # this machine: generated keys, plain HTTP
    import django

    django.setup()
    from django.core.management import call_command

    from tepat.accounts.models import Role, User
    from tepat.regions.services import regions_load
    from tepat.registry.loading import registry_load_directory
    from tepat.registry.models import Person
    from tepat.registry.selectors import person_search
    from tepat.synth.services import generate

    call_command("migrate", verbosity=0)
    regions_load()
    synth_dir = args.work / f"synth-{args.region}-{args.persons}-{args.seed}"
    if not (synth_dir / "manifest.json").exists():
        t = time.perf_counter()
        generate(
            region_code=args.region,
            persons=args.persons,
            seed=args.seed,
            out_dir=synth_dir,
            progress=True,
        )
        print(f"synth {args.persons:,} persons: {time.perf_counter() - t:.1f} s")
    if not Person.objects.exists():
        t = time.perf_counter()
        report = registry_load_directory(
            acting_user=None, directory=synth_dir / "registry", source="bench", progress=True
        )
        print(
            f"registry load: {report.households:,} households, {report.persons:,} persons in "
            f"{time.perf_counter() - t:.1f} s"
        )
    total = Person.objects.count()
    with (synth_dir / "registry" / "persons.csv").open(encoding="utf-8") as fh:
        niks = [row["nik"] for row in csv.DictReader(fh)]
    rng = random.Random(args.seed)
    present = rng.sample(niks, args.lookups)
    absent = [f"99{rng.randrange(10**13):014d}" for _ in range(args.lookups // 4)]
    max_pk = Person.objects.order_by("-pk").values_list("pk", flat=True).first() or 1
    admin = User(username="bench", role=Role.ADMIN, is_active=True)

    def timed(fn, items):  # type: ignore[no-untyped-def]
        out = []
        for item in items:
            t0 = time.perf_counter()
            fn(item)
            out.append((time.perf_counter() - t0) * 1000)
        return out

    # Warm-up so the first figures do not include connection set-up and cold caches.
    timed(lambda n: person_search(user=admin, nik=n), present[:50])
    baseline = timed(lambda _: Person.objects.filter(pk=rng.randint(1, max_pk)).first(), present)
    hits = timed(lambda n: person_search(user=admin, nik=n), present)
    misses = timed(lambda n: person_search(user=admin, nik=n), absent)
    found = sum(1 for n in present[:100] if person_search(user=admin, nik=n))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"database: {args.database_url.split('@')[-1]}, persons in registry: {total:,}")
    print(f"sanity: {found}/100 sampled NIKs found")
    for label, values in (
        ("baseline pk fetch", baseline),
        ("NIK lookup (hit)", hits),
        ("NIK lookup (miss)", misses),
    ):
        med = statistics.median(values)
        print(
            f"{label:<20} n={len(values):>5}  median {med:6.3f} ms  p99 {percentile(values, 0.99):6.3f} ms"
            f"  ratio to baseline {med / statistics.median(baseline):4.2f}"
        )
    print(f"peak RSS of this process: {peak_mb:.0f} MB")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
