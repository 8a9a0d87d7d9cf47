#!/usr/bin/env python3
"""Python cost of one public status check (POST /cek/), in-process, through the whole Django
stack (middleware, view, challenge, rate limits, queries, template), without a server.

    .venv/bin/python benchmarks/bench_citizen_check_cost.py                  # SQLite, temporary
    .venv/bin/python benchmarks/bench_citizen_check_cost.py \
        --database-url postgres://postgres@127.0.0.1:5432/tepat_bench_cost
    .venv/bin/python benchmarks/bench_citizen_check_cost.py --profile 25     # cProfile top 25

Builds a small registry (households with a paid PKH instalment for 40 % and a desil for all),
then times found / wrong-name / not-found checks, each with a fresh challenge solved as a person
would. Baseline in the same run: GET /manifest.webmanifest (middleware and a view, no database).
The load benchmark (bench_citizen_status.py) measures the same path under gunicorn at 1M persons.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import pstats
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

if TYPE_CHECKING:
    from django.http import HttpResponse

ROOT = Path(__file__).resolve().parent.parent
HOUSEHOLDS = 200
FORM = "application/x-www-form-urlencoded"
FIRST = ["Asep", "Budi", "Cahya", "Dewi", "Eka", "Fajar", "Gita", "Hadi", "Indah", "Joko"]
FIRST += ["Kurnia", "Lestari", "Made", "Nur", "Oka", "Putri", "Rahmat", "Sari", "Tono", "Wati"]
LAST = ["Sunandar", "Santoso", "Hidayat", "Lestari", "Wijaya", "Saputra", "Rahayu", "Kusuma"]
LAST += ["Pratama", "Nugroho", "Setiawan", "Permana"]


def build(households: int) -> list[tuple[str, str]]:
    """Regions, households, one distributed cycle, payments and a scoring run; (nik, name)."""
    from django.utils import timezone
    from tests.conftest import REGIONS, make_household, make_members
    from tests.portal.conftest import _pmt_model_fields

    from tepat.payments.models import Payment
    from tepat.programs.models import Cycle, Entitlement, Programme
    from tepat.regions.models import Region
    from tepat.registry.services import household_register
    from tepat.targeting.models import HouseholdScore, PmtModel, ScoringRun

    for code, dotted, name, level, parent in REGIONS:
        Region.objects.create(
            code=code, dotted_code=dotted, name=name, level=level, parent_id=parent
        )
    programme = Programme.objects.create(
        code="PKH-2026",
        name="Program Keluarga Harapan",
        kind="pkh",
        eligibility_rule="desil <= 4",
        effective_from=dt.date(2026, 1, 1),
    )
    cycle = Cycle.objects.create(
        programme=programme,
        code="2026-T4",
        instalment=4,
        state="distributed",
        period_start=dt.date(2026, 10, 1),
        period_end=dt.date(2026, 12, 31),
        control_count=10**6,
        control_amount=10**12,
    )
    run = ScoringRun.objects.create(
        model=PmtModel.objects.create(**_pmt_model_fields(PmtModel)), status="done"
    )
    now = timezone.now()
    people = []
    for i in range(1, households + 1):
        name = f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]}"
        members = make_members(serial=i, head_name=name)
        hh = household_register(
            acting_user=None, source="bench", household=make_household(serial=i), members=members
        )
        people.append((members[0]["nik"], name))
        HouseholdScore.objects.create(
            run=run, household=hh, score=12.0, desil_national=1 + i % 10, desil_regional=1
        )
        if i % 5 < 2:
            ent = Entitlement.objects.create(
                cycle=cycle,
                household=hh,
                household_ref=hh.public_id,
                beneficiary_ref="",
                village_code=hh.village_id,
                amount=750_000,
                state="approved",
            )
            Payment.objects.create(
                payment_key=f"bench-{i}",
                cycle=cycle,
                entitlement=ent,
                beneficiary_ref="",
                village_code=hh.village_id,
                amount=750_000,
                channel="cash_pos",
                provider="POS",
                payee_fa_enc="x",
                payee_fa_masked="****",
                payee_name="",
                collection_place="Kantor Pos Sukasari",
                collection_from=now,
                collection_until=now + dt.timedelta(days=7),
                state="paid",
                next_attempt_at=now,
            )
    return people


WORDS = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"]


def solved_challenge() -> dict[str, str]:
    from tepat.core import guard

    ch = guard.challenge_new()
    m = re.search(r"Berapa (\w+) ditambah (\w+)", ch.question)
    assert m
    return {"challenge": ch.token, "answer": str(WORDS.index(m[1]) + WORDS.index(m[2]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--checks", type=int, default=600)
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="tepat-bench-cost-")
    os.environ["TEPAT_VAR_DIR"] = tmp
    if args.database_url:
        os.environ["TEPAT_DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.config.settings")
    os.environ.setdefault("TEPAT_DEV", "true")  # this machine: generated keys, plain HTTP
    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    settings.TEPAT_CEK_LIMIT_PER_IP_HOUR = 0  # all checks come from one address
    settings.TEPAT_CEK_LIMIT_PER_NIK_DAY = 10**6
    # A throw-away test database (test_<name>), never the one the URL names; dropped at the end.
    name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        measure(args)
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)
        shutil.rmtree(tmp, ignore_errors=True)


def measure(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.test import Client

    people = build(HOUSEHOLDS)
    client = Client()
    client.get("/cek/")  # the CSRF cookie (the test client does not enforce it)

    def post(data: dict[str, str]) -> HttpResponse:
        # As a browser sends the form (the test client's default is multipart).
        return client.post("/cek/", urlencode(data), content_type=FORM)

    def check(kind: str, i: int) -> bytes:
        nik, name = people[i % len(people)]
        if kind == "wrong-name":
            name = "Orang Lain Sekali"
        elif kind == "not-found":
            nik = f"990101120580{i % 9999 + 1:04d}"
        r = post({"mode": "nik", "nik": nik, "name": name, **solved_challenge()})
        assert r.status_code == 200, r.status_code
        return r.content

    assert b'class="result"' in check("found", 0)
    assert b'id="not-found"' in check("wrong-name", 0)
    assert b'id="not-found"' in check("not-found", 0)
    for i in range(50):  # warm-up
        check("found", i)

    # The challenges are minted outside the timed part (a browser would bring them).
    print(
        f"database: {connection.vendor}; {HOUSEHOLDS} households; Python {sys.version.split()[0]}; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    base = []
    for _ in range(args.checks):
        t0 = time.perf_counter()
        client.get("/manifest.webmanifest")
        base.append((time.perf_counter() - t0) * 1000)
    print(
        f"{'baseline manifest':<20} mean {statistics.mean(base):6.2f} ms  p50 {statistics.median(base):6.2f} ms"
    )
    for kind in ("found", "wrong-name", "not-found"):
        # Mint first, time only the request.
        lat: list[float] = []
        cpu: list[float] = []
        for i in range(args.checks):
            nik, name = people[i % len(people)]
            if kind == "wrong-name":
                name = "Orang Lain Sekali"
            elif kind == "not-found":
                nik = f"990101120580{i % 9999 + 1:04d}"
            body = urlencode({"mode": "nik", "nik": nik, "name": name, **solved_challenge()})
            t0, c0 = time.perf_counter(), time.thread_time()
            r = client.post("/cek/", body, content_type=FORM)
            cpu.append((time.thread_time() - c0) * 1000)
            lat.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200
        # CPU of this process only: waiting for PostgreSQL and Redis is not counted.
        print(
            f"{'check ' + kind:<20} mean {statistics.mean(lat):6.2f} ms  "
            f"p50 {statistics.median(lat):6.2f} ms  p99 {sorted(lat)[int(0.99 * len(lat))]:6.2f} ms"
            f"  CPU mean {statistics.mean(cpu):5.2f} ms"
        )
    if args.profile:
        forms = []
        for i in range(200):
            nik, name = people[i % len(people)]
            forms.append(urlencode({"mode": "nik", "nik": nik, "name": name, **solved_challenge()}))
        prof = cProfile.Profile()
        prof.enable()
        for body in forms:
            client.post("/cek/", body, content_type=FORM)
        prof.disable()
        stats = pstats.Stats(prof)
        stats.sort_stats("cumulative").print_stats(args.profile)
        stats.sort_stats("tottime").print_stats(args.profile)
        stats.sort_stats("cumulative").print_stats(
            r"tepat|signing|csrf|session|locale|cache", args.profile
        )


if __name__ == "__main__":
    main()
