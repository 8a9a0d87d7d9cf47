"""Scoring N registry households on PostgreSQL with `tepat pmt score`: time and peak memory.

    .venv/bin/python benchmarks/bench_targeting_scale.py --synth OUT \
        [--database-url postgres://postgres@127.0.0.1:5432/h6bench] \
        [--sizes 100000 1000000] [--models ols gbm] [--keep]

The registry is real rows in a scratch PostgreSQL database (created here, dropped at the end
unless --keep), not features resampled in memory: households with their persons, written by
COPY straight into the tables `tepat registry load` fills (same schema, migrations applied), the
proxies drawn as the synthetic generator draws them (tepat.synth.economy) and every encrypted
field sealed for its row (the birth dates the scorer decrypts, NIK and No. KK) with real blind
indexes. The load is timed separately; it is not the path under test.

The path under test is the command an operator runs, `tepat pmt score --model V`, in a fresh
process (services.scoring_run: read features through the ORM, decrypt birth dates, score,
national and regional desil, write HouseholdScore rows), timed wall clock with the child's peak
RSS (os.wait4). The models are calibrated here on OUT/sources/survey.csv with the synthetic spec
(`tepat.targeting.services.pmt_calibrate`), one per --models method.

Baselines in the same run, at each size:
- a process that only imports Django and connects (the RSS floor of any command);
- the lower bound of the compute: a plain numpy dot product over a dense float64 feature
  matrix of the same rows and design width;
- the lower bound of the write: a plain PostgreSQL `COPY ... FROM STDIN` of a
  (household_id, score, desil_national, desil_regional) table with the same row count;
- the lower bound of the read: `COPY (SELECT <the feature columns> FROM household JOIN person)
  TO STDOUT`.

10M households is extrapolated from the per-household cost measured at the largest size, and
said to be so; it is not run on this machine unless --sizes names it.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.config.settings")
os.environ.setdefault("TEPAT_DEV", "true")

SYNTH_SPEC = ROOT / "src/tepat/targeting/specs/synth_survey.toml"
PERSON_CHUNK = 200_000
TEPAT = str(Path(sys.executable).parent / "tepat")


def load() -> str:
    return "load " + "/".join(f"{x:.1f}" for x in os.getloadavg())


def machine() -> str:
    text = Path("/proc/meminfo").read_text()
    kb = int(next(x for x in text.splitlines() if x.startswith("MemTotal")).split()[1])
    return f"{os.cpu_count()} cores, {kb / 1024**2:.0f} GiB RAM, Python {platform.python_version()}"


def run_child(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB, output) of a child process."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read().decode() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    dt = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out[-3000:]}")
    return dt, usage.ru_maxrss / 1024, out


# --- the database -----------------------------------------------------------------------------


def recreate_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}"')
        c.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def copy_csv(table: str, columns: list[str], data: dict[str, Any]) -> None:
    """COPY a dict of equal-length columns (numpy or lists) into `table` as CSV."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from django.db import connection

    buf = io.BytesIO()
    pacsv.write_csv(
        pa.table({c: pa.array(data[c]) for c in columns}),
        buf,
        pacsv.WriteOptions(include_header=False, quoting_style="needed"),
    )
    cols = ", ".join(f'"{c}"' for c in columns)
    sql = f'COPY "{table}" ({cols}) FROM STDIN WITH (FORMAT csv)'
    with connection.cursor() as cur, cur.cursor.copy(sql) as cp:
        cp.write(buf.getbuffer())


def load_households(start: int, count: int, villages: np.ndarray, seed: int) -> dict[str, float]:
    """Households start..start+count-1 with their persons, by COPY. Returns counts and seconds."""
    from django.db import connection, transaction
    from django.utils import timezone

    from tepat.core import crypto
    from tepat.registry import sealed
    from tepat.registry.models import Household, Person
    from tepat.synth import economy

    rng = np.random.default_rng([seed, start])
    t0 = time.perf_counter()
    n = count
    ids = np.arange(start + 1, start + n + 1, dtype=np.int64)
    urban = rng.random(n) < 0.5
    size = np.clip(1 + rng.poisson(2.7, n), 1, 12).astype(np.int64)
    w = rng.normal(0, 1, n)
    p = economy.make_proxies(rng, w, size, urban)
    cat = lambda levels, idx: np.array([v for v, _ in levels])[idx]  # noqa: E731
    now = timezone.now().isoformat()
    pid = np.char.add("h", np.char.zfill(ids.astype(str), 15))
    seal_kk = sealed.sealer(context=sealed.KK)
    kk_index = crypto.blind_indexer(purpose="kk")
    kk = np.char.zfill(ids.astype(str), 16)
    hh = {
        "id": ids, "public_id": pid,
        "kk_enc": [seal_kk(k, r) for k, r in zip(kk.tolist(), pid.tolist(), strict=True)],
        "kk_index": [kk_index(k) for k in kk.tolist()],
        "village_id": villages[rng.integers(0, len(villages), n)],
        "address": np.full(n, ""), "rt": np.full(n, ""), "rw": np.full(n, ""),
        "floor_material": cat(economy.FLOOR, p.floor), "wall_material": cat(economy.WALL, p.wall),
        "roof_material": cat(economy.ROOF, p.roof), "floor_area_m2": p.floor_area,
        "drinking_water": cat(economy.WATER, p.water), "toilet": cat(economy.TOILET, p.toilet),
        "electricity": cat(economy.ELECTRICITY, p.electricity), "electricity_va": p.va,
        "cooking_fuel": cat(economy.FUEL, p.fuel), "owns_motorcycle": p.motorcycle,
        "owns_refrigerator": p.refrigerator, "owns_car": p.car, "owns_land": p.land,
        "land_area_m2": p.land_area, "livestock_count": p.livestock,
        "version": np.ones(n, np.int64), "created_at": np.full(n, now), "updated_at": np.full(n, now),
    }  # fmt: skip
    t_hh_build = time.perf_counter() - t0
    with transaction.atomic():
        with connection.cursor() as cur:
            # Foreign-key triggers off for this load only (the rows reference households written
            # just before; `check_load` verifies it after). Indexes and unique constraints stay.
            cur.execute("SET LOCAL session_replication_role = replica")
        t1 = time.perf_counter()
        copy_csv(Household._meta.db_table, list(hh), hh)
        t_hh_copy = time.perf_counter() - t1
        # Persons: the head first, then spouse and children.
        m = int(size.sum())
        first = 0
        with connection.cursor() as cur:
            table = Person._meta.db_table  # model metadata, not input
            cur.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # noqa: S608
            first = int(cur.fetchone()[0])
        hh_of = np.repeat(ids, size)
        member = np.arange(m) - np.repeat(np.cumsum(size) - size, size)
        t_seal = t_copy = 0.0
        seal_birth = sealed.sealer(context=sealed.BIRTH_DATE)
        seal_nik = sealed.sealer(context=sealed.NIK)
        nik_index = crypto.blind_indexer(purpose="nik")
        for a in range(0, m, PERSON_CHUNK):
            b = min(a + PERSON_CHUNK, m)
            k = b - a
            pids = np.arange(first + a + 1, first + b + 1, dtype=np.int64)
            mem = member[a:b]
            age = np.where(
                mem == 0,
                rng.integers(22, 80, k),
                np.where(mem == 1, rng.integers(20, 75, k), rng.integers(0, 30, k)),
            )
            year = 2026 - age
            born = np.char.add(
                np.char.add(year.astype(str), "-"),
                np.char.add(
                    np.char.zfill(rng.integers(1, 13, k).astype(str), 2),
                    np.char.add("-", np.char.zfill(rng.integers(1, 29, k).astype(str), 2)),
                ),
            )
            public = np.char.add("p", np.char.zfill(pids.astype(str), 15))
            nik = np.char.zfill(pids.astype(str), 16)
            t2 = time.perf_counter()
            birth_enc = [
                seal_birth(d, r) for d, r in zip(born.tolist(), public.tolist(), strict=True)
            ]
            nik_enc = [seal_nik(x, r) for x, r in zip(nik.tolist(), public.tolist(), strict=True)]
            nik_idx = [nik_index(x) for x in nik.tolist()]
            t_seal += time.perf_counter() - t2
            rel = np.where(mem == 0, "head", np.where(mem == 1, "spouse", "child"))
            edu = np.array(["none", "sd", "smp", "sma", "diploma", "university"])[
                np.clip(rng.poisson(2, k), 0, 5)
            ]
            work = np.where(
                age >= 18,
                np.array(["not_working", "agriculture", "trade", "services", "construction"])[
                    rng.integers(0, 5, k)
                ],
                "",
            )
            school = np.where(
                (age >= 7) & (age < 13),
                "sd",
                np.where(
                    (age >= 13) & (age < 16), "smp", np.where((age >= 16) & (age < 19), "sma", "")
                ),
            )
            persons = {
                "id": pids, "public_id": public, "nik_enc": nik_enc, "nik_index": nik_idx,
                "household_id": hh_of[a:b], "relationship": rel,
                "full_name": np.char.add("Warga ", pids.astype(str)),
                "name_search": np.char.add("warga ", pids.astype(str)),
                "sex": np.where(rng.random(k) < 0.5, "M", "F"), "birth_year": year,
                "birth_date_enc": birth_enc, "birth_place": np.full(k, ""),
                "marital_status": np.where(mem <= 1, "married", "single"),
                "education": edu, "school_level": school, "work_sector": work,
                "disability": np.where(rng.random(k) < 0.02, "mild", ""),
                "pregnant": np.zeros(k, bool), "phone_enc": np.full(k, ""), "phone_index": np.full(k, ""),
                "version": np.ones(k, np.int64), "created_at": np.full(k, now), "updated_at": np.full(k, now),
            }  # fmt: skip
            t3 = time.perf_counter()
            copy_csv(Person._meta.db_table, list(persons), persons)
            t_copy += time.perf_counter() - t3
        with connection.cursor() as cur:
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('registry_household', 'id'), "
                "(SELECT MAX(id) FROM registry_household))"
            )
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('registry_person', 'id'), "
                "(SELECT MAX(id) FROM registry_person))"
            )
    t4 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM registry_person p LEFT JOIN registry_household h "
            "ON h.id = p.household_id WHERE h.id IS NULL"
        )
        orphans = int(cur.fetchone()[0])
        if orphans:
            raise SystemExit(f"load: {orphans} persons without their household")
        cur.execute(f'ANALYZE "{Household._meta.db_table}"')
        cur.execute(f'ANALYZE "{Person._meta.db_table}"')
    return {
        "households": n, "persons": m, "seconds": time.perf_counter() - t0,
        "build_households": t_hh_build, "copy_households": t_hh_copy, "seal_persons": t_seal,
        "copy_persons": t_copy, "analyze": time.perf_counter() - t4,
    }  # fmt: skip


# --- baselines --------------------------------------------------------------------------------


def baseline_dot(n: int, p: int) -> float:
    rng = np.random.default_rng(1)
    beta = rng.normal(0, 1, p)
    times = []
    for _ in range(3):
        X = rng.random((min(n, 2_000_000), p))
        t = time.perf_counter()
        for start in range(0, n, len(X)):
            _ = X[: min(len(X), n - start)] @ beta
        times.append(time.perf_counter() - t)
        del X
    return float(np.median(times))


def baseline_copy_scores(n: int) -> float:
    from django.db import connection

    rng = np.random.default_rng(2)
    hid = np.arange(1, n + 1)
    score = rng.normal(13, 0.5, n)
    dn = rng.integers(1, 11, n)
    dr = rng.integers(1, 11, n)
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS bench_scores (household_id bigint, score double precision, "
            "desil_national smallint, desil_regional smallint)"
        )
        cur.execute("TRUNCATE bench_scores")
    t = time.perf_counter()
    text = "\n".join(
        f"{h}\t{s!r}\t{a}\t{b}"
        for h, s, a, b in zip(hid.tolist(), score.tolist(), dn.tolist(), dr.tolist(), strict=True)
    )
    with connection.cursor() as cur, cur.cursor.copy("COPY bench_scores FROM STDIN") as cp:
        cp.write(text.encode())
        cp.write(b"\n")
    dt = time.perf_counter() - t
    with connection.cursor() as cur:
        cur.execute("DROP TABLE bench_scores")
    return dt


def baseline_read(household_table: str, person_table: str) -> float:
    from django.db import connection

    assert (household_table, person_table) == ("registry_household", "registry_person")
    sql = (
        "COPY (SELECT h.id, h.village_id, h.floor_material, h.wall_material, h.roof_material, "
        "h.floor_area_m2, h.drinking_water, h.toilet, h.electricity, h.electricity_va, "
        "h.cooking_fuel, h.owns_motorcycle, h.owns_refrigerator, h.owns_car, h.owns_land, "
        "h.land_area_m2, h.livestock_count FROM registry_household h ORDER BY h.id) TO STDOUT"
    )
    psql = (
        "COPY (SELECT household_id, relationship, sex, public_id, birth_date_enc, birth_year, "
        "education, work_sector, school_level, disability, pregnant FROM registry_person "
        "ORDER BY household_id) TO STDOUT"
    )
    t = time.perf_counter()
    size = 0
    with connection.cursor() as cur:
        for q in (sql, psql):
            with cur.cursor.copy(q) as cp:
                for block in cp:
                    size += len(block)
    return time.perf_counter() - t


def baseline_decrypt(persons: int, sample: int = 200_000) -> float:
    """The birth-date decryption any scorer of ages must do (AES-GCM, one per person), timed on
    `sample` persons read beforehand (the read is not timed) and scaled to `persons`."""
    from django.db import connection

    from tepat.registry.sealed import birth_dates_iso

    with connection.cursor() as cur:
        cur.execute(
            "SELECT public_id, birth_date_enc, birth_year FROM registry_person ORDER BY id LIMIT %s",
            [sample],
        )
        rows = cur.fetchall()
    t = time.perf_counter()
    birth_dates_iso(rows)
    return (time.perf_counter() - t) * persons / max(len(rows), 1)


# --- main -------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--synth", type=Path, required=True, help="`tepat synth` output (its survey)")
    ap.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/h6bench")
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--models", nargs="+", default=["ols", "gbm"])
    ap.add_argument(
        "--big-models",
        nargs="+",
        default=None,
        help="models scored at the largest size (default: all)",
    )
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    os.environ["TEPAT_DATABASE_URL"] = args.database_url
    env = dict(os.environ)
    recreate_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command

    from tepat.regions.models import Region
    from tepat.registry.models import Household, Person
    from tepat.targeting import services

    print(
        f"machine: {machine()}; PostgreSQL scratch database {args.database_url.rsplit('/', 1)[1]}"
    )
    try:
        t = time.perf_counter()
        call_command("migrate", verbosity=0)
        t_migrate = time.perf_counter() - t
        t = time.perf_counter()
        call_command("regions", "load", verbosity=0, stdout=io.StringIO())
        print(f"migrate {t_migrate:.1f} s, regions load {time.perf_counter() - t:.1f} s; {load()}")
        villages = np.array(
            Region.objects.filter(level="village", code__startswith="32").values_list(
                "code", flat=True
            )
        )
        print(f"{len(villages)} villages of province 32")

        # Models, calibrated on the synthetic survey.
        survey = args.synth / "sources" / "survey.csv"
        versions: dict[str, int] = {}
        for method in args.models:
            t = time.perf_counter()
            m = services.pmt_calibrate(
                acting_user=None, survey_path=survey, spec_path=SYNTH_SPEC,
                overrides={"methods": [method], "select": method}, name=f"bench {method}",
            )  # fmt: skip
            versions[method] = m.version
            print(f"calibrated {method} as v{m.version} in {time.perf_counter() - t:.1f} s")
        from tepat.targeting.models import PmtModel, ScoringRun

        width = 0
        try:
            from tepat.targeting.pmt import Pmt

            ols = PmtModel.objects.get(version=versions.get("ols", m.version))
            width = len(Pmt.from_dict(ols.parameters).design.names)
        except Exception as exc:  # the width of the baseline matrix only
            width = 60
            print(f"design width unknown ({exc!r}); the numpy baseline uses {width} columns")
        t_floor, rss_floor, _ = run_child([TEPAT, "pmt", "list"], env)
        print(
            f"floor (`tepat pmt list`: start Django, connect, list): {t_floor:.1f} s, "
            f"{rss_floor:.0f} MiB; design width {width}"
        )

        rows = [
            "| households | persons | step | seconds (in-process) | per household | peak RSS MiB | load |",
            "|---|---|---|---|---|---|---|",
        ]
        loaded = 0
        measured: dict[str, list[tuple[int, int, float, float]]] = {}
        persons = 0
        for target in sorted(args.sizes):
            step = load_households(loaded, target - loaded, villages, args.seed)
            loaded = target
            persons = Person.objects.count()
            assert Household.objects.count() == target
            print(
                f"\n[{target:,} households, {persons:,} persons] load of {step['households']:,} "
                f"households + {step['persons']:,} persons by COPY: {step['seconds']:.1f} s "
                f"(sealing {step['seal_persons']:.1f} s, COPY persons {step['copy_persons']:.1f} s, "
                f"COPY households {step['copy_households']:.1f} s); {load()}"
            )
            rows.append(
                f"| {target:,} | {persons:,} | load by direct COPY, not the path under test "
                f"({step['households']:,} more households) | {step['seconds']:.1f} | "
                f"{step['seconds'] / step['households'] * 1e6:.0f} us | - | {load()} |"
            )
            big_size = target == max(args.sizes)
            scored = args.big_models if big_size and args.big_models else args.models
            for method in scored:
                cmd = [TEPAT, "pmt", "score", "--model", str(versions[method]), "--no-progress"]
                dt, rss, out = run_child(cmd, env)
                run = ScoringRun.objects.order_by("-id").first()
                inner = (
                    float((run.summary or {}).get("seconds") or float("nan"))
                    if run
                    else float("nan")
                )
                print(
                    f"  `tepat pmt score` ({method}): {dt:.1f} s wall ({inner:.1f} s in the run), "
                    f"peak RSS {rss:.0f} MiB; {load()}\n    {out.strip()[-300:]}"
                )
                rows.append(
                    f"| {target:,} | {persons:,} | `tepat pmt score` ({method}) | {dt:.1f} "
                    f"({inner:.1f}) | {dt / target * 1e6:.0f} us | {rss:,.0f} | {load()} |"
                )
                measured.setdefault(method, []).append((target, persons, dt, rss))
            t_dot = baseline_dot(target, width)
            t_copy = baseline_copy_scores(target)
            t_read = baseline_read(Household._meta.db_table, Person._meta.db_table)
            t_dec = baseline_decrypt(persons)
            print(
                f"  baselines: numpy dot {t_dot:.4f} s, COPY FROM of scores {t_copy:.1f} s, "
                f"COPY TO of the feature columns {t_read:.1f} s, birth-date decryption "
                f"{t_dec:.1f} s; {load()}"
            )
            rows.append(
                f"| {target:,} | {persons:,} | baseline: numpy dot, {width} float64 columns | "
                f"{t_dot:.4f} | {t_dot / target * 1e6:.2f} us | - | {load()} |"
            )
            rows.append(
                f"| {target:,} | {persons:,} | baseline: `COPY ... FROM` of (household_id, score, "
                f"desil, desil) | {t_copy:.1f} | {t_copy / target * 1e6:.1f} us | - | {load()} |"
            )
            rows.append(
                f"| {target:,} | {persons:,} | baseline: `COPY (SELECT feature columns) TO` | "
                f"{t_read:.1f} | {t_read / target * 1e6:.1f} us | - | {load()} |"
            )
            rows.append(
                f"| {target:,} | {persons:,} | baseline: decrypting every birth date (measured on up to "
                f"200k persons, scaled) | {t_dec:.1f} | {t_dec / target * 1e6:.1f} us | - | {load()} |"
            )
        # 10M: the marginal cost between the two largest sizes measured (or, with one size, its
        # cost above the floor), extended linearly. NOT a measurement.
        for method, points in measured.items():
            n2, p2, t2, r2 = points[-1]
            if len(points) >= 2:
                n1, _, t1, r1 = points[-2]
                dt_h, dr_h, basis = (t2 - t1) / (n2 - n1), (r2 - r1) / (n2 - n1), f"{n1:,}->{n2:,}"
            else:  # one size: time above the floor; memory is not extrapolated (chunked)
                dt_h, dr_h, basis = (t2 - t_floor) / n2, float("nan"), f"{n2:,} - floor"
            mem = "-" if dr_h != dr_h else f"~{r2 + dr_h * (1e7 - n2):,.0f} (upper bound)"
            rows.append(
                f"| 10,000,000 (extrapolated, NOT run) | ~{10_000_000 * p2 / n2:,.0f} | "
                f"`tepat pmt score` ({method}): marginal cost {basis} | ~{t2 + dt_h * (1e7 - n2):,.0f} | "
                f"{dt_h * 1e6:.0f} us | {mem} | - |"
            )
        print("\n" + "\n".join(rows))
    finally:
        if args.keep:
            print(f"kept {args.database_url}")
        else:
            drop_database(args.database_url)
            print(f"dropped {args.database_url.rsplit('/', 1)[1]}")


if __name__ == "__main__":
    main()
