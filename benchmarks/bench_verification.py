"""Benchmark voucher issuance and the sync of handovers recorded offline, on PostgreSQL.

`--n` (default 10,000) households in one village get an e-Warung voucher each (seeded with SQL as
in bench_payments.py, then the real `cycle_compute`, `payments_issue` and `vouchers_issue`). One
field agent then syncs one handover per voucher, in device batches of `--batch` (default 500),
through `handovers_sync` (signature check, voucher locks, handover rows, ledger entries, audit).
Then the whole queue is resent (every item must come back as "already applied"), then a second
device's copies of the first 1,000 (each must be flagged as a double redemption).
Baseline in the same run: verifying the same n Ed25519 signatures alone, in one process.

    .venv/bin/python benchmarks/bench_verification.py \\
        --postgres postgres://postgres@127.0.0.1:5432/tepat_bench_verif
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_payments import VILLAGE, _author, _recreate, _setup, _users, seed_sql


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--postgres", required=True)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--batch", type=int, default=500)
    a = ap.parse_args()
    _recreate(a.postgres)
    _setup(a.postgres)
    from tepat.accounts.models import RegionScope, Role, User
    from tepat.payments import services as payments
    from tepat.payments.models import Payment
    from tepat.programs import services as programs
    from tepat.verification import services, signing
    from tepat.verification.models import Handover, Voucher

    maker, checker = _users()
    agent = User.objects.create_user(username="bench_agent", password="x", role=Role.FIELD_AGENT)  # noqa: S106
    RegionScope.objects.create(user=agent, region_code=VILLAGE)
    seed_sql(a.n)
    from tepat.registry.models import Household

    desil = dict.fromkeys(Household.objects.values_list("id", flat=True), 1)
    prog = programs.programme_create(
        acting_user=_author(), code="SEMBAKO-B", name="sembako", kind="sembako",
        eligibility_rule="desil <= 4", effective_from=dt.date(2026, 1, 1),
        params={"channels": ["ewarung"]},
    )  # fmt: skip
    cycle = programs.cycle_create(
        acting_user=maker, programme=prog, code="T1", instalment=1, period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 3, 31), control_count=10**8, control_amount=10**15,
    )  # fmt: skip
    programs.cycle_compute(acting_user=maker, cycle=cycle, desil=desil)
    programs.cycle_submit(acting_user=maker, cycle=cycle)
    programs.cycle_approve(acting_user=checker, cycle=cycle)
    payments.payments_issue(acting_user=maker, cycle=cycle)
    now = dt.datetime.now(dt.UTC)
    Payment.objects.update(
        collection_from=now - dt.timedelta(days=1), collection_until=now + dt.timedelta(days=13)
    )
    t = time.perf_counter()
    issued = services.vouchers_issue(acting_user=maker, cycle=cycle)
    issue_s = time.perf_counter() - t
    tokens = list(Voucher.objects.order_by("id").values_list("token", flat=True))

    raw = signing.public_key_raw()
    t = time.perf_counter()
    for tok in tokens:
        signing.verify(tok, raw)
    baseline_s = time.perf_counter() - t

    queue = [services.HandoverIn(str(uuid.uuid4()), tok, "card", now) for tok in tokens]

    def run(items: list[Any], device: str) -> tuple[float, dict[str, int]]:
        counts = {"accepted": 0, "already": 0, "duplicates": 0, "rejected": 0}
        t = time.perf_counter()
        for i in range(0, len(items), a.batch):
            r = services.handovers_sync(
                acting_user=agent, device_id=device, items=items[i : i + a.batch]
            )
            counts["accepted"] += len(r.accepted)
            counts["already"] += len(r.already)
            counts["duplicates"] += len(r.duplicates)
            counts["rejected"] += len(r.rejected)
        return time.perf_counter() - t, counts

    sync_s, first = run(queue, "hp-1")
    resend_s, again = run(queue, "hp-1")
    second = [services.HandoverIn(str(uuid.uuid4()), tok, "card", now) for tok in tokens[:1000]]
    dup_s, dups = run(second, "hp-2")
    assert first["accepted"] == issued == a.n, (first, issued)
    assert again["already"] == a.n
    assert dups["duplicates"] == len(second)
    assert Handover.objects.filter(status="accepted").count() == a.n
    print(f"vouchers issued: {issued} in {issue_s:.2f} s ({issue_s / issued * 1e3:.3f} ms each)")
    print(
        f"baseline: verify {a.n} signatures alone: {baseline_s:.2f} s ({baseline_s / a.n * 1e6:.0f} us each)"
    )
    print(f"sync {a.n} queued handovers (batches of {a.batch}): {sync_s:.2f} s "
          f"({a.n / sync_s:.0f}/s, {sync_s / baseline_s:.1f}x baseline) {first}")  # fmt: skip
    print(f"resend the same {a.n} (idempotent replay): {resend_s:.2f} s {again}")
    print(f"second device, {len(second)} double redemptions: {dup_s:.2f} s {dups}")


if __name__ == "__main__":
    main()
