#!/usr/bin/env python3
"""Public status check (POST /cek/) under loopback load, distinct NIKs: throughput, p50, p99.

    .venv/bin/python benchmarks/bench_citizen_status.py \
        --database-url postgres://postgres@127.0.0.1:5432/tepat_bench_citizen \
        --template tepat_bench_registry --seconds 20 --clients 16 --workers 2 --threads 4

Uses the 1M-person registry that benchmarks/bench_registry_lookup.py builds (copied from its
database with `createdb -T`, so that run's keys under var/bench/var decrypt it), adds one PKH
cycle with entitlements and payments for 40 % of households and a scoring run with a desil for
every household (plain SQL, once), then serves the real settings under gunicorn (gthread) with
Redis as the shared cache, and drives it from client processes on the same machine.

Each request is a real status check: CSRF token, a fresh single-use challenge (minted by this
script with the server's key and solved, as a person would solve it), a distinct NIK, and the
name from the synthetic population (90 % hits; 10 % absent NIKs). Baseline in the same run:
GET /manifest.webmanifest (the framework and server without database or templates).

Load generator (--driver): `wrk` (Debian's package, C, epoll, keep-alive; two threads) when it is
installed, else `python` (client processes with http.client). On two cores the client shares
the machine with the server, PostgreSQL and Redis: the Python clients spent 5-8x the CPU per
request that wrk does (0.24 against 0.03 ms for the baseline, 0.50 against 0.09 ms for a check)
and capped the baseline at about a third of what the server can do. With wrk, every request
still carries its own pre-minted challenge and NIK: the bodies are written to a file that a Lua
script (benchmarks/wrk_bodies.lua) hands out, each body once. The CPU time per request of each
process group is printed too: it depends far less than requests/s on what else the machine runs.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import multiprocessing as mp
import os
import platform
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = 8765


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def seed_sql() -> list[str]:
    """One programme, one distributed cycle, entitlements + payments for 40 % of households, and
    a scoring run with a desil for every household."""
    return [
        """INSERT INTO programs_programme (public_id, code, name, kind, eligibility_rule, params,
            effective_from, created_at) VALUES (substr(md5(random()::text), 1, 16), 'PKH-BENCH', 'Program Keluarga Harapan',
            'pkh', 'desil <= 4', '{}', '2026-01-01', now())""",
        """INSERT INTO programs_cycle (public_id, programme_id, code, instalment, state,
            period_start, period_end, control_count, control_amount, entitled_count,
            entitled_amount, frozen_params, frozen_rule, list_digest, region_code, created_at,
            updated_at)
            SELECT substr(md5(random()::text), 1, 16), id, '2026-T4', 4, 'distributed', '2026-10-01', '2026-12-31',
            1000000, 1000000000000, 0, 0, '{}', '', '', '', now(), now()
            FROM programs_programme WHERE code = 'PKH-BENCH'""",
        """INSERT INTO programs_entitlement (public_id, cycle_id, household_id, household_ref,
            beneficiary_ref, village_code, amount, inputs, state, reason)
            SELECT substr(md5(random()::text), 1, 16), (SELECT id FROM programs_cycle WHERE code = '2026-T4' ORDER BY id DESC
            LIMIT 1), h.id, h.public_id, '', h.village_id, 750000, '{}', 'approved', ''
            FROM registry_household h WHERE h.id % 5 < 2""",
        """INSERT INTO payments_payment (public_id, payment_key, cycle_id, entitlement_id,
            beneficiary_ref, village_code, amount, channel, provider, payee_fa_enc,
            payee_fa_masked, payee_name, collection_place, voucher_code, state, attempts,
            next_attempt_at, claimed_by, last_error, provider_ref, reason_code, reconciled,
            resolution, created_at, updated_at, ledger_salt)
            SELECT substr(md5(random()::text), 1, 16), 'bench-' || e.id, e.cycle_id, e.id, '', e.village_code, e.amount,
            'cash_pos', 'POS', 'x', '****', '', 'Kantor Pos', '', 'paid', 1, now(), '', '', '',
            '', false, '', now(), now(), md5(random()::text)
            FROM programs_entitlement e JOIN programs_cycle c ON c.id = e.cycle_id
            JOIN programs_programme p ON p.id = c.programme_id WHERE p.code = 'PKH-BENCH'""",
        """INSERT INTO targeting_pmtmodel (public_id, version, name, method, area_effects, spec,
            spec_text, parameters, coefficients, metrics, training_summary, created_at,
            created_by_label) VALUES (substr(md5(random()::text), 1, 16), 900001, 'bench', 'ols', false, '{}', '', '{}',
            '{}', '{}', '{}', now(), 'bench')""",
        """INSERT INTO targeting_scoringrun (public_id, model_id, rank_by, regional_level, status,
            households, summary, started_at, finished_at, created_by_label)
            SELECT substr(md5(random()::text), 1, 16), id, 'households', 4, 'done', 0, '{}', now(), now(), 'bench'
            FROM targeting_pmtmodel WHERE version = 900001""",
        """INSERT INTO targeting_householdscore (run_id, household_id, score, desil_national,
            desil_regional)
            SELECT (SELECT max(id) FROM targeting_scoringrun), h.id, random() * 3 + 11,
            1 + (h.id % 10), 1 + ((h.id / 10) % 10) FROM registry_household h""",
        "ANALYZE",
    ]


def prepare(args: argparse.Namespace) -> list[tuple[str, str]]:
    """Database copy, migrations, seed; returns (nik, name) pairs to look up."""
    dbname = args.database_url.rsplit("/", 1)[1]
    created = subprocess.run(
        ["createdb", "-h", "127.0.0.1", "-U", "postgres", "-T", args.template, dbname],
        capture_output=True,
        text=True,
    )
    if created.returncode == 0:
        print(f"copied {args.template} -> {dbname}")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM programs_programme WHERE code = 'PKH-BENCH'")
        if cur.fetchone()[0] == 0:
            t = time.perf_counter()
            for sql in seed_sql():
                cur.execute(sql)
            print(f"seeded entitlements, payments and desil in {time.perf_counter() - t:.1f} s")
        cur.execute("SELECT count(*) FROM registry_person")
        print(f"persons in registry: {cur.fetchone()[0]:,}")
        cur.execute("SELECT count(*) FROM programs_entitlement")
        print(f"entitlements: {cur.fetchone()[0]:,}")
    synth = f"synth-32-{args.persons}-7"  # the registry bench_registry_lookup.py built
    persons_csv = ROOT / "var" / "bench" / synth / "registry" / "persons.csv"
    rng = random.Random(args.seed)
    with persons_csv.open(encoding="utf-8") as fh:
        rows = [(r["nik"], r["full_name"]) for r in csv.DictReader(fh)]
    picked = rng.sample(rows, args.requests)
    for i in range(0, len(picked), 10):  # 10 % absent NIKs: well-formed, province 99 unused
        picked[i] = (
            f"99{rng.randrange(10**4):04d}120580{rng.randrange(1, 10**4):04d}",
            picked[i][1],
        )
    return picked


def mint_challenges(n: int) -> list[tuple[str, str]]:
    """Challenges as the server would issue them, solved the way a person would."""
    from tepat.core import guard

    out = []
    for _ in range(n):
        ch = guard.challenge_new()
        words = re.search(r"Berapa (\w+) ditambah (\w+)", ch.question)
        assert words
        a, b = guard.WORDS_ID.index(words.group(1)), guard.WORDS_ID.index(words.group(2))
        out.append((ch.token, str(a + b)))
    return out


def client_proc(
    kind: str, items: list[tuple[str, str, str, str]], deadline: float, q: mp.Queue
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    conn.request("GET", "/cek/")
    resp = conn.getresponse()
    html = resp.read().decode()
    cookie = resp.getheader("Set-Cookie", "").split(";", 1)[0]
    token_m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    csrf = token_m.group(1) if token_m else ""
    lat: list[float] = []
    found = errors = 0
    for nik, name, ch_token, answer in items:
        if time.perf_counter() > deadline:
            break
        t0 = time.perf_counter()
        if kind == "baseline":
            conn.request("GET", "/manifest.webmanifest")
        else:
            body = urllib.parse.urlencode(
                {
                    "csrfmiddlewaretoken": csrf,
                    "mode": "nik",
                    "nik": nik,
                    "name": name,
                    "challenge": ch_token,
                    "answer": answer,
                }
            )
            conn.request(
                "POST",
                "/cek/",
                body=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": cookie,
                },
            )
        resp = conn.getresponse()
        data = resp.read()
        lat.append((time.perf_counter() - t0) * 1000)
        if resp.status != 200:
            errors += 1
        elif kind != "baseline" and b'class="result"' in data:
            found += 1
    q.put((lat, found, errors))


def drive(
    kind: str, items: list, clients: int, seconds: float
) -> tuple[list[float], int, int, float]:
    q: mp.Queue = mp.Queue()
    deadline = time.perf_counter() + seconds
    chunks = [items[i::clients] for i in range(clients)]
    procs = [mp.Process(target=client_proc, args=(kind, c, deadline, q)) for c in chunks]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    results = [q.get() for _ in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - t0
    lat = [x for r in results for x in r[0]]
    return lat, sum(r[1] for r in results), sum(r[2] for r in results), wall


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU time (user + system) so far of the server's workers, all PostgreSQL processes, Redis,
    and this script's finished children (wrk); Linux /proc only, else empty."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {"server": 0.0, "postgres": 0.0, "redis": 0.0}
    try:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            used = (int(fields[11]) + int(fields[12])) / tick
            if int(fields[1]) == server_pid or int(entry.name) == server_pid:
                out["server"] += used
            elif comm.startswith("postgres"):
                out["postgres"] += used
            elif comm.startswith("redis-server"):
                out["redis"] += used
    except OSError:
        return {}
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    out["client"] = children.ru_utime + children.ru_stime
    return out


def csrf_pair() -> tuple[str, str]:
    """The CSRF cookie and a form token for it, as a browser gets them from GET /cek/."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    conn.request("GET", "/cek/")
    resp = conn.getresponse()
    html = resp.read().decode()
    cookie = resp.getheader("Set-Cookie", "").split(";", 1)[0]
    token_m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return cookie, token_m.group(1) if token_m else ""


def drive_wrk(
    kind: str, items: list, clients: int, seconds: float, threads: int = 2
) -> tuple[int, float, float, float, int, int]:
    """(requests, req/s, p50 ms, p99 ms, non-200, found) measured by wrk."""
    cookie, csrf = csrf_pair()
    with tempfile.TemporaryDirectory(prefix="tepat-wrk-") as tmp:
        bodies = Path(tmp) / "bodies.txt"
        with bodies.open("w") as fh:
            for nik, name, ch_token, answer in items:
                fh.write(
                    urllib.parse.urlencode(
                        {
                            "csrfmiddlewaretoken": csrf,
                            "mode": "nik",
                            "nik": nik,
                            "name": name,
                            "challenge": ch_token,
                            "answer": answer,
                        }
                    )
                    + "\n"
                )
        url = f"http://127.0.0.1:{PORT}" + (
            "/manifest.webmanifest" if kind == "baseline" else "/cek/"
        )
        out = subprocess.run(
            [
                "wrk",
                "-t",
                str(threads),
                "-c",
                str(clients),
                "-d",
                f"{seconds:g}s",
                "--timeout",
                "10s",
                "-s",
                str(ROOT / "benchmarks" / "wrk_bodies.lua"),
                url,
                "--",
                kind,
                str(bodies),
                str(threads),
                cookie,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    m = re.search(r"^TEPAT (.*)$", out, re.M)
    assert m, out
    f = dict(kv.split("=") for kv in m.group(1).split())
    return (
        int(f["requests"]), float(f["rps"]), float(f["p50_us"]) / 1000,
        float(f["p99_us"]) / 1000, int(f["non200"]), int(f["found"]),
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/tepat_bench_citizen"
    )
    parser.add_argument("--template", default="tepat_bench_registry")
    parser.add_argument(
        "--persons", type=int, default=1_000_000, help="the size bench_registry_lookup.py built"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--requests", type=int, default=60_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--driver", choices=("wrk", "python"), default="wrk" if shutil.which("wrk") else "python"
    )
    args = parser.parse_args()

    os.environ["TEPAT_DATABASE_URL"] = args.database_url
    os.environ["TEPAT_REDIS_URL"] = args.redis_url
    os.environ["TEPAT_VAR_DIR"] = str(ROOT / "var" / "bench" / "var")  # that run's keys
    os.environ["TEPAT_DEBUG"] = "false"
    # Plain HTTP on loopback with that run's generated keys: a development installation.
    os.environ["TEPAT_DEV"] = "true"
    sys.path.insert(0, str(ROOT / "benchmarks"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_citizen_settings"

    picked = prepare(args)
    subprocess.run(["redis-cli", "-u", args.redis_url, "FLUSHDB"], capture_output=True)
    challenges = mint_challenges(len(picked))
    items = [(n, nm, t, a) for (n, nm), (t, a) in zip(picked, challenges, strict=True)]

    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(args.threads),
            "--pythonpath",
            f"{ROOT / 'src'},{ROOT / 'benchmarks'}",
            "--log-level",
            "warning",
            "tepat.config.wsgi:application",
        ],
        env=os.environ.copy(),
    )
    try:
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
                c.request("GET", "/manifest.webmanifest")
                c.getresponse().read()
                break
            except OSError:
                time.sleep(0.2)
        # Warm-up: every worker opens its database connection and loads templates.
        drive("status", items[:200], args.clients, 5)
        items = items[200:]
        clients = (
            f"wrk (2 threads, {args.clients} keep-alive connections)"
            if args.driver == "wrk"
            else f"{args.clients} Python client processes"
        )
        print(
            f"machine: {platform.node()} {os.cpu_count()} cores, Python "
            f"{platform.python_version()}; gunicorn {args.workers} workers x {args.threads} "
            f"threads; {clients} on the same machine"
        )
        load = os.getloadavg()
        print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        figures = {}
        for kind, batch in (("baseline", items), ("status", items)):
            cpu_before = cpu_seconds(server.pid)
            if args.driver == "wrk":
                n, rps, p50, p99, errors, found = drive_wrk(kind, batch, args.clients, args.seconds)
            else:
                lat, found, errors, wall = drive(kind, batch, args.clients, args.seconds)
                n, rps, p50, p99 = (
                    len(lat),
                    len(lat) / wall,
                    statistics.median(lat),
                    percentile(lat, 0.99),
                )
            figures[kind] = (rps, p50, p99)
            print(
                f"{kind:<9} requests {n:>6}  {rps:7.1f} req/s  "
                f"p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
                f"non-200 {errors}" + (f"  found {found}" if kind == "status" else "")
            )
            cpu_after = cpu_seconds(server.pid)
            if cpu_before and cpu_after and n:
                print(
                    "          CPU ms per request: "
                    + ", ".join(
                        f"{k} {(cpu_after[k] - cpu_before[k]) * 1000 / n:.2f}" for k in cpu_after
                    )
                    + (" (client: this script's processes)" if args.driver == "python" else "")
                )
        print(
            f"status / baseline: throughput {figures['status'][0] / figures['baseline'][0]:.2f}x, "
            f"p50 {figures['status'][1] / figures['baseline'][1]:.2f}x"
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
