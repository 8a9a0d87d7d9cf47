"""Benchmark `tepat regions load`: first load into an empty table and the idempotent re-load.

Runs each database in its own process (Django settings are read once per process) on a scratch
database: a SQLite file in a temporary folder, and, when a URL is given, a PostgreSQL database
that is dropped and re-created (its name must start with `tepat_bench`). The baseline, measured
in the same run, is reading and checking the vendored gzip without touching a database.

    .venv/bin/python benchmarks/bench_regions_load.py --repeat 5 \
        --postgres postgres://postgres@127.0.0.1:5432/tepat_bench_regions

The PostgreSQL URL may also come from TEPAT_BENCH_POSTGRES_URL.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent


def _worker(repeat: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.config.settings")
    os.environ.setdefault("TEPAT_DEV", "true")  # this machine: generated keys, plain HTTP
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tepat.regions.models import Region, RegionBoundary
    from tepat.regions.services import read_region_rows, regions_load_detailed

    call_command("migrate", "core", verbosity=0)
    call_command("migrate", "regions", verbosity=0)

    def wipe() -> None:
        with connection.cursor() as cursor:
            for model in (RegionBoundary, Region):
                cursor.execute(f"DELETE FROM {model._meta.db_table}")  # noqa: S608

    parse, first, reload = [], [], []
    for _ in range(repeat):
        started = time.perf_counter()
        rows = list(read_region_rows())
        parse.append(time.perf_counter() - started)
        assert len(rows) == 91599

        wipe()
        started = time.perf_counter()
        report = regions_load_detailed()
        first.append(time.perf_counter() - started)
        assert report.created == 91599, report

        started = time.perf_counter()
        report = regions_load_detailed()
        reload.append(time.perf_counter() - started)
        assert (report.created, report.updated) == (0, 0), report
    print(
        json.dumps({"vendor": connection.vendor, "parse": parse, "first": first, "reload": reload})
    )


def _run_backend(label: str, database_url: str, repeat: int, var_dir: str) -> dict[str, object]:
    env = {**os.environ, "TEPAT_DATABASE_URL": database_url, "TEPAT_VAR_DIR": var_dir}
    result = subprocess.run(
        [sys.executable, __file__, "--worker", "--repeat", str(repeat)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"{label}: worker failed\n{result.stderr}")
    figures: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    figures["label"] = label
    return figures


def _recreate_postgres(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith("tepat_bench"):
        sys.exit(
            f"refusing to drop {name!r}: the scratch database name must start with tepat_bench"
        )
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop_postgres(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}"')


def _print_table(results: list[dict[str, object]], repeat: int) -> None:
    print(f"regions load benchmark: 91,599 regions, {repeat} repetitions, times in seconds")
    print(f"{'database':<12}{'step':<26}{'median':>8}{'min':>8}{'x parse':>9}")
    for figures in results:
        parse = statistics.median(figures["parse"])  # type: ignore[arg-type]
        for step, key in (
            ("baseline: parse gzip", "parse"),
            ("first load (empty table)", "first"),
            ("re-load (no changes)", "reload"),
        ):
            times: list[float] = figures[key]  # type: ignore[assignment]
            median = statistics.median(times)
            print(
                f"{figures['label']:<12}{step:<26}{median:>8.3f}{min(times):>8.3f}"
                f"{median / parse:>8.1f}x"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", default=os.environ.get("TEPAT_BENCH_POSTGRES_URL", ""))
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.repeat)
        return

    results = []
    with tempfile.TemporaryDirectory(prefix="tepat-bench-regions-") as tmp:
        if not args.no_sqlite:
            url = f"sqlite:///{tmp}/bench.sqlite3"
            results.append(_run_backend("sqlite", url, args.repeat, tmp))
        if args.postgres:
            _recreate_postgres(args.postgres)
            try:
                results.append(_run_backend("postgresql", args.postgres, args.repeat, tmp))
            finally:
                _drop_postgres(args.postgres)
    _print_table(results, args.repeat)


if __name__ == "__main__":
    main()
