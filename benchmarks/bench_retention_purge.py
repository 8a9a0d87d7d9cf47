#!/usr/bin/env python3
"""Retention purge of one year's expired rows at the scale of 1M persons, against plain DELETEs.

    .venv/bin/python benchmarks/bench_retention_purge.py \
        --database-url postgres://postgres@127.0.0.1:5432/hretain_bench --repeats 3
    .venv/bin/python benchmarks/bench_retention_purge.py --database-url sqlite --repeats 3

Volumes at --scale 1 (1M persons, ~300k households, ~250k paid each cycle), expired + fresh:
citizen sign-in codes 600k + 60k, sessions 600k + 60k, SMS payment notices 1M + 100k, superseded
staged import rows 1M (+ 100k current), resolved quarantine rows 20k + 2k, voucher OTPs 100k +
10k, Django admin log 5k + 500; plus 1M audit events past their period (+ 100k fresh), which the
purge counts and never deletes. Rows go in with COPY (PostgreSQL) or executemany (SQLite).

Each repeat fills the tables afresh, times `retention_purge` (every rule: counts before and
after, batches of 100,000 in their own transactions, the audit event), refills, and times the
baseline: one plain `DELETE ... WHERE <timestamp> < cutoff` per table on the same rows (and a
COUNT of the audit rows due), in one transaction. Prints medians; checks both leave the same
rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 100_000

# rule key -> (expired rows, fresh rows) at scale 1
VOLUMES = {
    "portal.sign_in_codes": (600_000, 60_000),
    "accounts.sessions": (600_000, 60_000),
    "payments.sms_outbox": (1_000_000, 100_000),
    "integration.staged_superseded": (1_000_000, 100_000),
    "integration.quarantine_resolved": (20_000, 2_000),
    "verification.otp": (100_000, 10_000),
    "accounts.admin_log": (5_000, 500),
    "core.audit": (1_000_000, 100_000),
}


def setup(database_url: str, work: Path) -> None:
    if database_url.startswith("postgres"):
        dbname = database_url.rsplit("/", 1)[1]
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", dbname],
                       capture_output=True, check=False)  # fmt: skip
        os.environ["TEPAT_DATABASE_URL"] = database_url
    else:
        work.mkdir(parents=True, exist_ok=True)
        os.environ["TEPAT_DATABASE_URL"] = f"sqlite:///{work / 'retention-bench.sqlite3'}"
    os.environ.setdefault("TEPAT_VAR_DIR", str(work / "var"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "tepat.config.settings"
    os.environ.setdefault("TEPAT_DEV", "true")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def rules() -> dict[str, Any]:
    from tepat.privacy.declarations import collect

    return {r.key: r for r in collect().retention}


def _tables() -> list[str]:
    return [
        "portal_citizenotp", "django_session", "payments_smsmessage", "integration_stagedrecord",
        "integration_quarantinedrow", "verification_otpchallenge", "django_admin_log",
        "core_auditevent",
    ]  # fmt: skip


def empty() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("TRUNCATE " + ", ".join(_tables()))
        else:
            for table in _tables():
                cur.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names


def _chunks(n: int, make: Any) -> Any:
    for start in range(0, n, CHUNK):
        yield [make(i) for i in range(start, min(n, start + CHUNK))]


def fill(scale: float, now: dt.datetime, fixtures: dict[str, Any]) -> int:
    """Insert the expired and fresh rows of every table; returns the rows inserted."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.sessions.models import Session

    from tepat.core.bulk import insert_rows
    from tepat.core.models import AuditEvent
    from tepat.integration.models import QuarantinedRow, StagedRecord
    from tepat.payments.models import SmsMessage
    from tepat.portal.models import CitizenOtp
    from tepat.verification.models import OtpChallenge

    total = 0
    r = rules()

    def ages(key: str) -> list[tuple[int, dt.datetime]]:
        expired, fresh = (int(v * scale) for v in VOLUMES[key])
        keep = r[key].keep
        return [(expired, now - keep - dt.timedelta(days=10)),
                (fresh, now - keep + dt.timedelta(days=1))]  # fmt: skip

    serial = 0
    for n, at in ages("portal.sign_in_codes"):
        names = ["nik_index", "person_ref", "code_hash", "code_enc", "state", "expires_at",
                 "attempts", "created_at", "sent_at"]  # fmt: skip
        for rows in _chunks(n, lambda i, at=at: [f"{i:032x}", "p" * 16, "s$h", "", "sent",
                                          at + dt.timedelta(minutes=5), 0, at, at]):  # fmt: skip
            insert_rows(CitizenOtp, names, rows)
            total += len(rows)
    for n, at in ages("accounts.sessions"):
        serial += 1
        tag = serial
        for rows in _chunks(n, lambda i, tag=tag, at=at: [f"{tag}k{i:030d}", "x", at]):
            insert_rows(Session, ["session_key", "session_data", "expire_date"], rows)
            total += len(rows)
    payments = fixtures["payments"]
    for n, at in ages("payments.sms_outbox"):
        serial += 1
        tag = serial
        names = ["event_key", "payment_id", "template", "body", "state", "attempts",
                 "created_at", "sent_at"]  # fmt: skip
        for rows in _chunks(n, lambda i, tag=tag, at=at: [f"{tag}:{i}:paid", payments[i % len(payments)],
                                                   "paid", "Bansos Rp750.000 telah disalurkan.",
                                                   "sent", 1, at, at]):  # fmt: skip
            insert_rows(SmsMessage, names, rows)
            total += len(rows)
    names = ["source_id", "run_id", "record_id", "row_number", "current", "nik_enc", "nik_index",
             "kk_enc", "kk_index", "full_name", "sex", "birth_place", "village_code", "address",
             "rt", "rw", "attrs", "cluster_id"]  # fmt: skip
    for (n, _at), run, current in zip(ages("integration.staged_superseded"),
                                      (fixtures["old_run"], fixtures["new_run"]), (False, True),
                                      strict=True):  # fmt: skip
        for rows in _chunks(n, lambda i, run=run, current=current: [
            fixtures["source"], run, f"r{i}", i + 2, current, "enc" * 20, f"{i:032x}", "enc" * 20,
            f"{i:032x}", "ASEP SUNANDAR", "M", "BANDUNG", "3273011001", "JL. SETIABUDI NO. 5",
            "003", "007", {"DAYA": "900"}, ""]):  # fmt: skip
            insert_rows(StagedRecord, names, rows)
            total += len(rows)
    names = ["run_id", "row_number", "field", "code", "reason", "problems", "raw_enc",
             "village_code", "status"]  # fmt: skip
    for (n, _at), run in zip(ages("integration.quarantine_resolved"),
                             (fixtures["q_old_run"], fixtures["q_new_run"]), strict=True):  # fmt: skip
        for rows in _chunks(n, lambda i, run=run: [run, i + 2, "nik", "length", "NIK 15 digits",
                                                   [], "enc" * 40, "3273011001", "resubmitted"]):  # fmt: skip
            insert_rows(QuarantinedRow, names, rows)
            total += len(rows)
    for (n, at), voucher in zip(ages("verification.otp"),
                                (fixtures["old_voucher"], fixtures["new_voucher"]), strict=True):  # fmt: skip
        names = ["voucher_id", "code_hash", "expires_at", "attempts", "created_at"]
        for rows in _chunks(n, lambda i, voucher=voucher, at=at: [voucher, "h" * 64, at, 0, at]):
            insert_rows(OtpChallenge, names, rows)
            total += len(rows)
    for n, at in ages("accounts.admin_log"):
        names = ["action_time", "user_id", "object_repr", "action_flag", "change_message"]
        for rows in _chunks(n, lambda i, at=at: [at, fixtures["admin"], "Person x", 2, "[]"]):
            insert_rows(LogEntry, names, rows)
            total += len(rows)
    for n, at in ages("core.audit"):
        names = ["at", "actor_label", "action", "target_type", "target_id", "region_code",
                 "detail"]  # fmt: skip
        for rows in _chunks(n, lambda i, at=at: [at, "op_bandung", "person.view_full", "person",
                                                 f"p{i:015d}", "3273011001", {"read": True}]):  # fmt: skip
            insert_rows(AuditEvent, names, rows)
            total += len(rows)
    return total


def fixtures_make(now: dt.datetime) -> dict[str, Any]:
    """The few parent rows the filled tables point at: runs, payments, vouchers, a user."""
    from tepat.accounts.models import Role, User
    from tepat.integration.models import ImportRun, Source
    from tepat.payments.models import Payment
    from tepat.programs.models import Cycle, Entitlement, Programme
    from tepat.regions.models import Region
    from tepat.registry.models import Household
    from tepat.verification.models import Voucher

    r = rules()
    admin, _ = User.objects.get_or_create(username="bench_admin", defaults={"role": Role.ADMIN})
    source, _ = Source.objects.get_or_create(key="bench", defaults={"name": "b", "config": {}})

    def run(name: str, at: dt.datetime) -> int:
        obj, _ = ImportRun.objects.get_or_create(source=source, file_name=name,
                                                 defaults={"content_hash": name,
                                                           "delivered_on": at.date()})  # fmt: skip
        ImportRun.objects.filter(pk=obj.pk).update(started_at=at)
        return obj.pk

    staged_keep = r["integration.staged_superseded"].keep
    q_keep = r["integration.quarantine_resolved"].keep
    out: dict[str, Any] = {
        "admin": admin.pk,
        "source": source.pk,
        "old_run": run("old", now - staged_keep - dt.timedelta(days=10)),
        "new_run": run("new", now - dt.timedelta(days=1)),
        "q_old_run": run("q_old", now - q_keep - dt.timedelta(days=10)),
        "q_new_run": run("q_new", now - dt.timedelta(days=1)),
    }
    for code, dotted, level, parent in (("32", "32", "province", None),
                                        ("3273", "32.73", "regency", "32"),
                                        ("327301", "32.73.01", "district", "3273"),
                                        ("3273011001", "32.73.01.1001", "village", "327301")):  # fmt: skip
        Region.objects.get_or_create(code=code, defaults={"dotted_code": dotted, "name": code,
                                                          "level": level, "parent_id": parent})  # fmt: skip
    if not Payment.objects.filter(payment_key__startswith="bench.").exists():
        programme = Programme.objects.create(code="BENCH", name="b", kind="pkh",
                                             eligibility_rule="desil <= 4",
                                             effective_from=dt.date(2020, 1, 1))  # fmt: skip
        household = Household.objects.create(kk_enc="x", kk_index="bench-kk",
                                             village_id="3273011001")  # fmt: skip
        for i in range(1002):
            cycle = Cycle.objects.create(programme=programme, code=f"B{i}", instalment=1,
                                         period_start=dt.date(2020, 1, 1),
                                         period_end=dt.date(2020, 3, 31), control_count=1,
                                         control_amount=1)  # fmt: skip
            ent = Entitlement.objects.create(cycle=cycle, household=household,
                                             household_ref="h", beneficiary_ref="b",
                                             village_code="3273011001", amount=1)  # fmt: skip
            Payment.objects.create(payment_key=f"bench.{i}", cycle=cycle, entitlement=ent,
                                   beneficiary_ref="b", village_code="3273011001", amount=1,
                                   channel="cash_pos", provider="POS", payee_fa_enc="x",
                                   payee_fa_masked="x", next_attempt_at=now)  # fmt: skip
    pays = list(Payment.objects.filter(payment_key__startswith="bench.").order_by("id")
                .values_list("id", flat=True))  # fmt: skip
    otp_keep = r["verification.otp"].keep
    vouchers = []
    for pay, until in ((pays[-2], now - otp_keep - dt.timedelta(days=10)),
                       (pays[-1], now - dt.timedelta(days=1))):  # fmt: skip
        v, _ = Voucher.objects.get_or_create(payment_id=pay, defaults={
            "village_code": "3273011001", "token": "t", "key_id": "k",
            "valid_from": until - dt.timedelta(days=14), "valid_until": until})  # fmt: skip
        vouchers.append(v.pk)
    out.update(payments=pays[:-2], old_voucher=vouchers[0], new_voucher=vouchers[1])
    return out


def baseline(now: dt.datetime) -> None:
    """The same deletions as plain SQL, one statement per table, in one transaction."""
    from django.db import connection, transaction

    r = rules()

    def cut(key: str) -> Any:
        return connection.ops.adapt_datetimefield_value(now - r[key].keep)

    statements = [
        ("DELETE FROM portal_citizenotp WHERE created_at < %s", cut("portal.sign_in_codes")),
        ("DELETE FROM django_session WHERE expire_date < %s", cut("accounts.sessions")),
        ("DELETE FROM payments_smsmessage WHERE created_at < %s AND state IN ('sent', 'failed')",
         cut("payments.sms_outbox")),
        ("DELETE FROM integration_stagedrecord WHERE current = %s AND run_id IN "
         "(SELECT id FROM integration_importrun WHERE started_at < %s)",
         (False, cut("integration.staged_superseded"))),
        ("DELETE FROM integration_quarantinedrow WHERE status IN ('resubmitted', 'discarded') "
         "AND run_id IN (SELECT id FROM integration_importrun WHERE started_at < %s)",
         cut("integration.quarantine_resolved")),
        ("DELETE FROM verification_otpchallenge WHERE voucher_id IN "
         "(SELECT id FROM verification_voucher WHERE valid_until < %s)", cut("verification.otp")),
        ("DELETE FROM django_admin_log WHERE action_time < %s", cut("accounts.admin_log")),
        ("SELECT COUNT(*) FROM core_auditevent WHERE at < %s", cut("core.audit")),
    ]  # fmt: skip
    with transaction.atomic(), connection.cursor() as cur:
        for sql, params in statements:
            cur.execute(sql, list(params) if isinstance(params, tuple) else [params])


def remaining() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cur:
        out = {}
        for table in _tables():
            cur.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - fixed names
            out[table] = cur.fetchone()[0]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite",
                        help="postgres://... or 'sqlite' (a file under --work)")  # fmt: skip
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=None, help="rows per purge transaction")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench")
    args = parser.parse_args()
    setup(args.database_url, args.work)

    from django.db import connection, transaction

    from tepat.privacy.retention import DEFAULT_BATCH, retention_purge

    now = dt.datetime.now(dt.UTC)
    fixtures = fixtures_make(now)
    print(f"machine: {platform.node()} {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cpus; database: {connection.vendor}; scale {args.scale}; "
          f"batch {args.batch or DEFAULT_BATCH}")  # fmt: skip
    purge_s: list[float] = []
    base_s: list[float] = []
    per_rule: dict[str, list[float]] = {}
    for rep in range(args.repeats):
        empty()
        t = time.perf_counter()
        with transaction.atomic():
            rows = fill(args.scale, now, fixtures)
        print(f"[{rep + 1}] filled {rows:,} rows in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        report = retention_purge(now=now, progress=False, batch=args.batch or DEFAULT_BATCH)
        purge_s.append(time.perf_counter() - t)
        assert report.ok, [x.error for x in report.results if x.error]
        after_purge = remaining()
        after_purge["core_auditevent"] -= 1  # the purge's own audit event
        for x in report.results:
            if x.due:
                per_rule.setdefault(x.key, []).append(x.seconds)
        deleted = report.processed
        print(f"[{rep + 1}] purge: {purge_s[-1]:.1f} s, {deleted:,} rows deleted")
        empty()
        with transaction.atomic():
            fill(args.scale, now, fixtures)
        t = time.perf_counter()
        baseline(now)
        base_s.append(time.perf_counter() - t)
        print(f"[{rep + 1}] baseline DELETEs: {base_s[-1]:.1f} s")
        left = remaining()
        assert left == after_purge, f"different rows left: purge {after_purge}, SQL {left}"
    print()
    print(f"rows deleted per run: {deleted:,}; audit rows counted (not deleted): "
          f"{int(VOLUMES['core.audit'][0] * args.scale):,}")  # fmt: skip
    print(
        f"purge    median {statistics.median(purge_s):7.1f} s  runs {[round(x, 1) for x in purge_s]}"
    )
    print(
        f"baseline median {statistics.median(base_s):7.1f} s  runs {[round(x, 1) for x in base_s]}"
    )
    print(f"ratio purge / baseline: {statistics.median(purge_s) / statistics.median(base_s):.2f}")
    print("per rule (median s, counting included):")
    for key, values in per_rule.items():
        print(f"  {key:34} {statistics.median(values):7.2f}")


if __name__ == "__main__":
    main()
