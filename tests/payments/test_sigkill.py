"""Kill the worker with SIGKILL in the middle of a 10k-payment run, start it again, and prove
from the simulator's own journal that no payment was made twice and none is missing."""

from __future__ import annotations

import collections
import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection

from tepat.accounts.models import RegionScope, Role, User
from tepat.payments import services as pay
from tepat.payments.loadtest import seed_households
from tepat.payments.models import Payment, PaymentState
from tepat.programs import services
from tests.conftest import BANDUNG_VILLAGE

N = 10_000


def _db_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tepat.cli", "worker", "--batch", "250", "--lease", "3",
         "--backoff-base", "0.2", "--backoff-cap", "1", "--max-attempts", "50"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_run_neither_pays_twice_nor_misses_a_payment(regions, provider_sim):
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: the worker subprocess must see the test database, and pytest-django's "
            "SQLite test database lives in memory (CI runs this with TEPAT_DATABASE_URL)"
        )
    maker = User.objects.create_user(username="maker", password="x", role=Role.OPERATOR)
    checker = User.objects.create_user(username="checker", password="x", role=Role.SUPERVISOR)
    author = User.objects.create_user(username="author", password="x", role=Role.ADMIN)
    for u in (maker, checker):  # a Kota Bandung cycle, prepared and approved by its own staff
        RegionScope.objects.create(user=u, region_code=BANDUNG_VILLAGE[:4])
    ids = seed_households(n=N, village_code=BANDUNG_VILLAGE, tag="kill")
    prog = services.programme_create(acting_user=author, code="BLT-KILL", name="BLT", kind="blt",
                                     eligibility_rule="desil <= 4", effective_from=dt.date(2026, 1, 1))  # fmt: skip
    cycle = services.cycle_create(acting_user=maker, programme=prog, code="T1", instalment=1,
                                  period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 3, 31),
                                  control_count=N, control_amount=N * 900_000)  # fmt: skip
    services.cycle_compute(acting_user=maker, cycle=cycle, desil=dict.fromkeys(ids, 1))
    services.cycle_submit(acting_user=maker, cycle=cycle)
    services.cycle_approve(acting_user=checker, cycle=cycle)
    assert pay.payments_issue(acting_user=maker, cycle=cycle) == N

    # Transient 5xx and answers lost after execution make the worker retry what was executed.
    sim = provider_sim(latency_ms=20, transient_5xx_rate=0.05, timeout_rate=0.05, timeout_sleep=3)
    env = {**os.environ, "TEPAT_DATABASE_URL": _db_url(), "TEPAT_PROVIDER_URL": sim.url,
           "TEPAT_PROVIDER_TIMEOUT_S": "1.5"}  # fmt: skip
    first = _worker(env)
    try:
        deadline = time.monotonic() + 60
        # Kill it while it holds claimed rows (sent or about to be sent, not yet recorded).
        while (
            Payment.objects.filter(state=PaymentState.PAID).count() < N // 3
            or not Payment.objects.filter(state=PaymentState.SENDING).exists()
        ):
            assert time.monotonic() < deadline, "worker too slow"
            assert first.poll() is None, first.stdout.read().decode() if first.stdout else ""
            time.sleep(0.01)
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    in_flight = Payment.objects.filter(state=PaymentState.SENDING).count()
    assert in_flight > 0

    second = _worker(env)
    try:
        deadline = time.monotonic() + 80
        while Payment.objects.exclude(state=PaymentState.PAID).exists():
            assert time.monotonic() < deadline, collections.Counter(
                Payment.objects.values_list("state", flat=True)
            )
            time.sleep(0.2)
    finally:
        second.terminate()
        second.wait(10)

    journal = sim.journal()
    ours = set(Payment.objects.values_list("payment_key", flat=True))
    executed = [r for r in journal if r[3] == "succ"]
    per_payee = collections.Counter(r[1] for r in executed)
    assert len(ours) == N
    assert {r[0] for r in executed} == ours, "a payment is missing at the provider"
    assert len(executed) == N, "the provider executed more payments than we issued"
    assert max(per_payee.values()) == 1, "a beneficiary was paid twice"
    replays = sum(r[5] for r in journal)
    print(f"\nkilled with {in_flight} payments in flight; provider replayed {replays} retried keys")
