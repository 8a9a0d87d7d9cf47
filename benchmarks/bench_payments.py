"""Benchmark payments and entitlements on PostgreSQL.

1. Entitlements for `--households` (default 1,000,000) households: households and their heads are
   written straight to the registry tables with SQL (`generate_series`), then a Sembako cycle and
   a PKH cycle are computed and frozen (`cycle_compute`: rule evaluation over targeting's
   features, PKH components, COPY of the entitlement list). Baseline in the same run: reading
   the household features alone (`household_features`), which every computation starts with.
2. Payments: `--payments` (default 100,000) beneficiaries with KKS accounts, issued into the
   outbox, then paid through `tepat provider-sim` over HTTP until every payment is settled or
   dead-lettered. Baseline: 1 worker, synchronous answers, no failures. Measured run:
   `--workers` (default 2) `tepat worker` processes, asynchronous answers by callback to
   `tepat runserver`, with 5 % transient 5xx, duplicate callbacks (50 %) and out-of-order
   callbacks (10 %). A fresh simulator (and journal) per run; the journal is checked afterwards
   for exactly-once (one execution per payment, none missing).

The scratch database is dropped and re-created; its name must start with `tepat_bench`.

    .venv/bin/python benchmarks/bench_payments.py \\
        --postgres postgres://postgres@127.0.0.1:5432/tepat_bench_payments
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VILLAGE = "3273011001"


def _recreate(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[-1]
    if not name.startswith("tepat_bench"):
        raise SystemExit(f"refusing to drop {name!r}: the name must start with tepat_bench")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _setup(url: str) -> None:
    os.environ["TEPAT_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.config.settings")
    # Plain HTTP on loopback with generated keys: a development installation.
    os.environ.setdefault("TEPAT_DEV", "true")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from tepat.regions.models import Level, Region

    for code, dotted, name, level, parent in [
        ("32", "32", "Jawa Barat", Level.PROVINCE, None),
        ("3273", "32.73", "Kota Bandung", Level.REGENCY, "32"),
        ("327301", "32.73.01", "Sukasari", Level.DISTRICT, "3273"),
        (VILLAGE, "32.73.01.1001", "Sukarasa", Level.VILLAGE, "327301"),
    ]:
        Region.objects.get_or_create(
            code=code,
            defaults={"dotted_code": dotted, "name": name, "level": level, "parent_id": parent},
        )


def _users() -> tuple[Any, Any]:
    from tepat.accounts.models import RegionScope, Role, User

    maker = User.objects.create_user(username="bench_maker", password="x", role=Role.OPERATOR)  # noqa: S106
    checker = User.objects.create_user(username="bench_checker", password="x", role=Role.SUPERVISOR)  # noqa: S106
    for u in (maker, checker):  # the seeded households' regency: the cycles are Kota Bandung's
        RegionScope.objects.create(user=u, region_code=VILLAGE[:4])
    return maker, checker


def _author() -> Any:
    """Who writes the programmes: never the checker (maker-checker counts the programme)."""
    from tepat.accounts.models import Role, User

    return User.objects.get_or_create(username="bench_author", defaults={"role": Role.ADMIN})[0]


def _sql_defaults(model: Any, given: dict[str, str]) -> tuple[str, str]:
    """Column list and SELECT expressions for every concrete column of `model`."""
    from django.db import models

    cols, exprs = [], []
    for f in model._meta.concrete_fields:
        if isinstance(f, models.AutoField) or f.primary_key:
            continue
        cols.append(f'"{f.column}"')
        if f.column in given:
            exprs.append(given[f.column])
        elif f.null:
            exprs.append("NULL")
        elif isinstance(f, models.BooleanField):
            exprs.append("false")
        elif isinstance(f, models.DateTimeField):
            exprs.append("now()")
        elif isinstance(f, models.IntegerField | models.PositiveIntegerField):
            exprs.append(str(f.default) if isinstance(f.default, int) else "0")
        else:
            exprs.append("''")
    return ", ".join(cols), ", ".join(exprs)


def seed_sql(n: int) -> float:
    """`n` households, each with a head (a woman born 1950-1999), written by PostgreSQL itself."""
    from django.db import connection

    from tepat.registry.models import Household, Person

    t = time.perf_counter()
    hcols, hexprs = _sql_defaults(Household, {
        "public_id": "'bh' || lpad(i::text, 14, '0')", "kk_enc": "'synthetic'",
        "kk_index": "'bk' || i", "village_id": f"'{VILLAGE}'", "version": "1",
    })  # fmt: skip
    pcols, pexprs = _sql_defaults(Person, {
        "public_id": "'bp' || lpad(h.id::text, 14, '0')", "nik_enc": "'synthetic'",
        "nik_index": "'bn' || h.id", "household_id": "h.id", "relationship": "'head'",
        "full_name": "'Penerima'", "name_search": "'penerima'", "sex": "'F'",
        "birth_year": "1950", "version": "1",
    })  # fmt: skip
    with connection.cursor() as c:
        c.execute(
            f"INSERT INTO registry_household ({hcols}) SELECT {hexprs} FROM generate_series(1, %s) i",  # noqa: S608 - column names from the model
            [n],
        )
        c.execute(
            f"INSERT INTO registry_person ({pcols}) SELECT {pexprs} FROM registry_household h WHERE h.kk_index LIKE 'bk%%'"  # noqa: S608
        )
    # Birth dates are held encrypted and bound to the row (registry.sealed): sealed here, in
    # Python, as a load does; 1950-01-01 + (household id % 18000) days, as before.
    from tepat.core.bulk import update_values
    from tepat.registry.sealed import seal_birth_date

    rows = Person.objects.filter(nik_index__startswith="bn").values_list(
        "pk", "public_id", "household_id"
    )
    values = []
    for pk, public_id, household_id in rows.iterator(chunk_size=50_000):
        born = dt.date(1950, 1, 1) + dt.timedelta(days=household_id % 18000)
        values.append((born.year, seal_birth_date(born, row=public_id), pk))
    update_values(Person, ("birth_year", "birth_date_enc"), values)
    with connection.cursor() as c:
        c.execute("ANALYZE registry_household; ANALYZE registry_person")
    return time.perf_counter() - t


def bench_entitlements(n: int, maker: Any, checker: Any) -> dict[str, float]:
    from tepat.programs import services
    from tepat.targeting.features import household_features

    seeded = seed_sql(n)
    t = time.perf_counter()
    frame = household_features(on=dt.date(2026, 1, 1))
    baseline = time.perf_counter() - t
    desil = {int(h): 1 + int(h) % 10 for h in frame.household_id}
    del frame
    out = {"seed_s": seeded, "baseline_features_s": baseline}
    for kind, params in (("sembako", {}), ("pkh", {"elderly_age": 60})):
        prog = services.programme_create(
            acting_user=_author(), code=f"{kind.upper()}-B", name=kind, kind=kind,  # type: ignore[attr-defined]
            eligibility_rule="desil <= 4", effective_from=dt.date(2026, 1, 1), params=params,
        )  # fmt: skip
        cycle = services.cycle_create(
            acting_user=maker, programme=prog, code="T1", instalment=1, period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2026, 3, 31), control_count=10**8, control_amount=10**15,
        )  # fmt: skip
        t = time.perf_counter()
        cycle = services.cycle_compute(acting_user=maker, cycle=cycle, desil=desil)
        out[f"{kind}_compute_s"] = time.perf_counter() - t
        out[f"{kind}_entitled"] = cycle.entitled_count
        t = time.perf_counter()
        digest, bad = services.cycle_recompute_frozen(cycle=cycle)
        out[f"{kind}_recompute_s"] = time.perf_counter() - t
        assert digest == cycle.list_digest
        assert not bad
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"{url}: process exited") from None
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def _tepat(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tepat.cli", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


CALLBACK_SERVER = "gunicorn"


def run_payments(*, workers: int, asynchronous: bool, transient: float, duplicate: float,
                 out_of_order: float, n: int, env: dict[str, str]) -> dict[str, Any]:  # fmt: skip
    from django.db.models import Count

    from tepat.payments.models import Payment, PaymentState

    procs: list[subprocess.Popen[bytes]] = []
    simdir = Path(tempfile.mkdtemp(prefix="bench-sim-"))
    sim_port = _free_port()
    env = {
        **env,
        "TEPAT_PROVIDER_URL": f"http://127.0.0.1:{sim_port}",
    }
    try:
        sim = _tepat("provider-sim", "--port", str(sim_port), "--statement-dir", str(simdir),
                     "--transient-5xx-rate", str(transient), "--duplicate-callback-rate", str(duplicate),
                     "--out-of-order-rate", str(out_of_order), "--callback-delay-ms", "0", env=env)  # fmt: skip
        procs.append(sim)
        _wait_http(env["TEPAT_PROVIDER_URL"] + "/health", sim)
        # The simulator made a key pair per provider: Tepat (web, workers) verifies with these.
        env["TEPAT_PROVIDER_KEYS"] = (simdir / "keys.public.json").read_text()
        if asynchronous:
            web_port = _free_port()
            if CALLBACK_SERVER == "gunicorn":
                # A production-like WSGI server for the provider's callbacks (2 processes x 4
                # threads), as a deployment would run; `runserver` is single-process.
                web = subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "tepat.config.wsgi:application",
                     "-b", f"127.0.0.1:{web_port}", "-w", "2", "--threads", "4", "--log-level", "warning"],
                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
            else:
                web = _tepat("runserver", f"127.0.0.1:{web_port}", "--noreload", env=env)
            procs.append(web)
            _wait_http(f"http://127.0.0.1:{web_port}/api/docs", web)
            env["TEPAT_PROVIDER_CALLBACK_URL"] = (
                f"http://127.0.0.1:{web_port}/api/payments/callbacks/on-disburse"
            )
        open_states = [PaymentState.ISSUED, PaymentState.SENDING, PaymentState.SENT]
        t0 = time.perf_counter()
        for _ in range(workers):
            procs.append(_tepat("worker", "--batch", "500", "--backoff-base", "0.5", "--backoff-cap", "5",
                                "--max-attempts", "8", env=env))  # fmt: skip
        while Payment.objects.filter(state__in=open_states).exists():
            time.sleep(0.2)
        elapsed = time.perf_counter() - t0
        states = dict(Payment.objects.values_list("state").annotate(n=Count("id")))
        db = sqlite3.connect(str(simdir / "journal.sqlite3"))
        executed, distinct, replays = db.execute(
            "SELECT count(*), count(DISTINCT payee_fa), coalesce(sum(replays),0) FROM executions WHERE status='succ'"
        ).fetchone()
        ours_paid = states.get("paid", 0)
        return {"seconds": elapsed, "per_second": n / elapsed, "states": states,
                "provider_executed": executed, "provider_distinct_payees": distinct,
                "provider_replays": replays, "exactly_once": executed == distinct == ours_paid}  # fmt: skip
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def bench_payments(n: int, workers: int, maker: Any, checker: Any) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from tepat.ledger.models import PendingEntry
    from tepat.payments import services as pay
    from tepat.payments.loadtest import seed_households
    from tepat.payments.models import Payment, SmsMessage
    from tepat.programs import services

    t = time.perf_counter()
    ids = seed_households(n=n, village_code=VILLAGE, tag="pay")
    seeded = time.perf_counter() - t
    prog = services.programme_create(acting_user=_author(), code="BLT-PAY", name="BLT", kind="blt",
                                     eligibility_rule="desil <= 4", effective_from=dt.date(2026, 1, 1))  # fmt: skip
    cycle = services.cycle_create(acting_user=maker, programme=prog, code="T1", instalment=1,
                                  period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 3, 31),
                                  control_count=n, control_amount=n * 900_000)  # fmt: skip
    services.cycle_compute(acting_user=maker, cycle=cycle, desil=dict.fromkeys(ids, 1))
    services.cycle_submit(acting_user=maker, cycle=cycle)
    services.cycle_approve(acting_user=checker, cycle=cycle)
    t = time.perf_counter()
    issued = pay.payments_issue(acting_user=maker, cycle=cycle)
    issue_s = time.perf_counter() - t
    s = connection.settings_dict
    url = f"postgres://{s['USER']}{':' + s['PASSWORD'] if s.get('PASSWORD') else ''}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    env = {**os.environ, "TEPAT_DATABASE_URL": url}
    base = run_payments(
        workers=1,
        asynchronous=False,
        transient=0.0,
        duplicate=0.0,
        out_of_order=0.0,
        n=issued,
        env=env,
    )

    Payment.objects.update(state="issued", attempts=0, claimed_by="", lease_until=None, last_error="",
                           reason_code="", sent_at=None, settled_at=None, next_attempt_at=timezone.now())  # fmt: skip
    SmsMessage.objects.all().delete()
    PendingEntry.objects.all().delete()
    main = run_payments(workers=workers, asynchronous=True, transient=0.05, duplicate=0.5, out_of_order=0.1,
                        n=issued, env=env)  # fmt: skip
    return {"seed_s": seeded, "issue_s": issue_s, "issued": issued, "baseline_1_worker_sync": base,
            f"measured_{workers}_workers_async": main}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--postgres", required=True)
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument("--payments", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-entitlements", action="store_true")
    ap.add_argument("--skip-payments", action="store_true")
    ap.add_argument(
        "--callback-server", choices=["gunicorn", "runserver"], default="gunicorn",
        help="what receives the provider's callbacks in the asynchronous run",
    )  # fmt: skip
    args = ap.parse_args()
    global CALLBACK_SERVER
    CALLBACK_SERVER = args.callback_server
    _recreate(args.postgres)
    _setup(args.postgres)
    maker, checker = _users()
    import json

    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}", flush=True)
    if not args.skip_payments:
        r = bench_payments(args.payments, args.workers, maker, checker)
        print("payments:", json.dumps(r, indent=1, default=str), flush=True)
    if not args.skip_entitlements:
        r2 = bench_entitlements(args.households, maker, checker)
        print("entitlements:", json.dumps(r2, indent=1), flush=True)


if __name__ == "__main__":
    main()
