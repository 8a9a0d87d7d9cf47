"""Benchmark crypto-shredding: erase one person next to a 1M-entry transparency log.

Each database runs in its own process on a scratch database: a SQLite file in a temporary folder
and, when a URL is given, a PostgreSQL database that is dropped and re-created (its name must
contain `bench`).

1. A log of `--entries` entries (default 1,000,000): the entry rows are inserted in bulk and the
   tiles and head are written by bench_ledger.py's bulk builder (`_build_big`) over the same
   bodies ("entry <i>"), exactly what the sequencer stores, without signing a checkpoint per batch.
2. A registry of `--households` households (four persons each, a bank account for the head)
   loaded through `registry_load_directory`: every snapshot in the history sealed under its
   person's (or family's) subject key, keys created in bulk.
3. `--erasures` persons (a child in each of as many households) erased one by one with
   `registry.rights.person_erase` (blockers checked, row cleared, every app's erasure step,
   subject key shredded, history and audit record written); median and p95. Baselines in the
   same run: a registry correction (`person_update`, one sealed history record and an audit
   event) on as many other persons, and `subject_shred` alone.
4. The log is checked untouched: size, root (from the tiles) and a SHA-256 over every entry body
   equal before and after; `log_verify` re-hashes every entry against the tiles; an inclusion
   proof of a random entry and a consistency proof from a random earlier size verify against the
   root (the same root as before the erasures, so every proof issued before still holds).
5. Copies of the erased persons' old wrapped keys left in the database's files, counted before
   and after: the SQLite file and its WAL; PostgreSQL's table files and WAL segments (when the
   data directory is readable by this process).

    .venv/bin/python benchmarks/bench_crypto_shred.py \\
        --postgres postgres://postgres@127.0.0.1:5432/hshred_bench
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from bench_ledger import _build_big, _setup  # noqa: E402 - the ledger benchmark's builder

DISTRICT, VILLAGE = "327301", "3273011001"
REGIONS = [
    ("32", "32", "Jawa Barat", "province", None),
    ("3273", "32.73", "Kota Bandung", "regency", "32"),
    (DISTRICT, "32.73.01", "Sukasari", "district", "3273"),
    (VILLAGE, "32.73.01.1001", "Sukarasa", "village", DISTRICT),
]


def _word(i: int) -> str:
    """A name word for number i (names may not hold digits): Baaa, Baab, ..."""
    letters = ""
    for _ in range(4):
        i, r = divmod(i, 26)
        letters = "abcdefghijklmnopqrstuvwxyz"[r] + letters
    return "B" + letters


def _nik(born: dt.date, female: bool, serial: int) -> str:
    day = born.day + (40 if female else 0)
    return f"{DISTRICT}{day:02d}{born:%m%y}{serial:04d}"


def _write_registry(directory: Path, households: int) -> None:
    """households.csv and persons.csv: every NIK and No. KK unique and well-formed."""
    hh_cols = ["kk", "village_code", "address", "rt", "rw", "floor_material", "toilet"]
    p_cols = ["nik", "kk", "full_name", "sex", "birth_date", "relationship", "marital_status",
              "education", "school_level", "work_sector", "phone", "bank_provider",
              "bank_account"]  # fmt: skip
    adults, kids = dt.date(1950, 1, 1), dt.date(2005, 1, 1)
    with (
        (directory / "households.csv").open("w", newline="", encoding="utf-8") as hf,
        (directory / "persons.csv").open("w", newline="", encoding="utf-8") as pf,
    ):
        hw, pw = csv.writer(hf), csv.writer(pf)
        hw.writerow(hh_cols)
        pw.writerow(p_cols)
        for i in range(households):
            issued = dt.date(2010, 1, 1) + dt.timedelta(days=i % 3000)
            kk = f"{DISTRICT}{issued:%d%m%y}{i // 3000 + 1:04d}"
            hw.writerow([kk, VILLAGE, f"Jl. Bench No. {i}", "001", "002", "cement", "private"])
            head = adults + dt.timedelta(days=i % 20000)
            spouse = adults + dt.timedelta(days=(i + 1800) % 20000)
            child = kids + dt.timedelta(days=i % 6000)
            serial = i // 20000 + 1
            rows = [
                (_nik(head, False, serial), f"Kepala {_word(i)}", "M", head, "head", "married", "sma", "",
                 "trade", f"0812{i:08d}", "BRI", f"{4_000_000_000 + i}"),
                (_nik(spouse, True, serial), f"Istri {_word(i)}", "F", spouse, "spouse", "married",
                 "smp", "", "not_working", "", "", ""),
                (_nik(child, False, i // 6000 + 1), f"Anak {_word(i)}", "M", child, "child", "single",
                 "sd", "sd", "not_working", "", "", ""),
                (_nik(child, True, i // 6000 + 5001), f"Anak Dua {_word(i)}", "F", child, "child",
                 "single", "sd", "sd", "not_working", "", "", ""),
            ]  # fmt: skip
            for nik, name, sex, born, rel, marital, edu, school, work, phone, bank, acc in rows:
                pw.writerow([nik, kk, name, sex, born.isoformat(), rel, marital, edu, school,
                             work, phone, bank, acc])  # fmt: skip


def _log(n: int) -> tuple[bytes, float, float]:
    """The entry rows (bulk insert) and the tiles and head (bench_ledger's builder)."""
    from django.db import transaction
    from django.utils import timezone

    from tepat.core.bulk import insert_rows
    from tepat.ledger.models import LogEntry

    started = time.perf_counter()
    now = timezone.now()
    with transaction.atomic():
        for start in range(0, n, 100_000):
            stop = min(n, start + 100_000)
            rows = [(i, "bench.entry", "", f"entry {i}", now) for i in range(start, stop)]
            insert_rows(LogEntry, ["index", "kind", "ref", "body", "sequenced_at"], rows)
    entries_s = time.perf_counter() - started
    root, tiles_s = _build_big(n)
    return root, entries_s, tiles_s


def _bodies_digest() -> str:
    from tepat.ledger.models import LogEntry

    h = hashlib.sha256()
    for body in (
        LogEntry.objects.order_by("index")
        .values_list("body", flat=True)
        .iterator(chunk_size=50_000)
    ):
        h.update(body.encode())
        h.update(b"\n")
    return h.hexdigest()


def _worker(entries: int, households: int, erasures: int, var_dir: str) -> None:
    _setup()
    from django.db import connection

    from tepat.accounts.models import RegionScope, Role, User
    from tepat.core.subjectkeys import subject_encrypt, subject_shred
    from tepat.ledger import merkle, selectors
    from tepat.ledger.models import LogEntry
    from tepat.regions.models import Region
    from tepat.registry.loading import registry_load_directory
    from tepat.registry.models import Person
    from tepat.registry.rights import person_erase
    from tepat.registry.services import person_update

    for code, dotted, name, level, parent in REGIONS:
        Region.objects.create(code=code, dotted_code=dotted, name=name, level=level,
                              parent_id=parent)  # fmt: skip
    supervisor = User.objects.create_user(
        username="spv_bench", password=os.urandom(16).hex(), role=Role.SUPERVISOR
    )
    RegionScope.objects.create(user=supervisor, region_code="32")

    root, entries_s, tiles_s = _log(entries)
    directory = Path(var_dir) / f"registry-{connection.vendor}"
    directory.mkdir(parents=True, exist_ok=True)
    _write_registry(directory, households)
    started = time.perf_counter()
    registry_load_directory(acting_user=None, directory=directory, source="bench")
    load_s = time.perf_counter() - started

    size_before = selectors.log_size()
    digest_before = _bodies_digest()
    assert size_before == entries
    assert selectors.root_at(size_before) == root

    children = list(Person.objects.filter(relationship="child", full_name__startswith="Anak ")
                    .exclude(full_name__startswith="Anak Dua").order_by("id")[:erasures])  # fmt: skip
    spouses = list(Person.objects.filter(relationship="spouse").order_by("-id")[:erasures])
    from tepat.core.models import SubjectKey

    wrapped = [bytes(SubjectKey.objects.get(subject=p.public_id).key_wrapped) for p in children]
    residue = {"before erasure": _residue(wrapped)}
    update_s, erase_s, shred_s = [], [], []
    for person in spouses:
        started = time.perf_counter()
        person_update(acting_user=supervisor, person=person, changes={"education": "sma"},
                      source="bench", reason="koreksi")  # fmt: skip
        update_s.append(time.perf_counter() - started)
    for person in children:
        started = time.perf_counter()
        person_erase(person=person, reason="permintaan subjek data", acting_user=supervisor)
        erase_s.append(time.perf_counter() - started)
    for i in range(erasures):
        subject_encrypt(f"bench-{i}", "x", context="bench")
        started = time.perf_counter()
        subject_shred(f"bench-{i}")
        shred_s.append(time.perf_counter() - started)

    residue["after erasure"] = _residue(wrapped)

    size_after = selectors.log_size()
    root_after = selectors.root_at(size_after)
    digest_after = _bodies_digest()
    started = time.perf_counter()
    report = selectors.log_verify(with_anchor=False)
    verify_s = time.perf_counter() - started
    index = random.Random(1).randrange(size_after)
    leaf = merkle.leaf_hash(LogEntry.objects.get(index=index).body.encode())
    merkle.verify_inclusion(index, size_after, leaf,
                            selectors.inclusion_proof(index=index, size=size_after), root_after)  # fmt: skip
    first = random.Random(2).randrange(1, size_after)
    merkle.verify_consistency(first, size_after, selectors.root_at(first), root_after,
                              selectors.consistency_proof(first=first, second=size_after))  # fmt: skip
    print(json.dumps({
        "vendor": connection.vendor, "entries": entries, "households": households,
        "persons": Person.objects.count(), "entries_s": entries_s, "tiles_s": tiles_s,
        "load_s": load_s, "update_s": update_s, "erase_s": erase_s, "shred_s": shred_s,
        "size_before": size_before, "size_after": size_after,
        "root_before": root.hex(), "root_after": root_after.hex(),
        "digest_before": digest_before, "digest_after": digest_after,
        "verify_ok": report.ok, "verify_s": verify_s, "verify_checked": report.checked,
        "residue": residue, "wrapped": len(wrapped),
    }))  # fmt: skip


def _residue(blobs: list[bytes]) -> str:
    """How many of the erased persons' old wrapped keys are still in the database's files: the
    SQLite file and its WAL; on PostgreSQL the table's files and the WAL segments, counted apart
    (after a CHECKPOINT), when this process may read the data directory."""
    from django.db import connection

    if connection.vendor == "sqlite":
        name = Path(connection.settings_dict["NAME"])
        return f"{_found(blobs, [name, Path(f'{name}-wal')])} in file+WAL"
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
        cursor.execute("SHOW data_directory")
        data = Path(cursor.fetchone()[0])
        cursor.execute("SELECT pg_relation_filepath('core_subjectkey')")
        heap = data / cursor.fetchone()[0]
    try:
        table = _found(blobs, list(heap.parent.glob(heap.name + "*")))
        wal = _found(blobs, sorted((data / "pg_wal").glob("0*")))
    except OSError:
        return "data directory not readable"
    return f"{table} in table files, {wal} in WAL segments"


def _found(blobs: list[bytes], files: list[Path]) -> int:
    found: set[int] = set()
    for path in files:
        if path.exists():
            raw = path.read_bytes()
            found |= {i for i, b in enumerate(blobs) if b in raw}
    return len(found)


def _run(label: str, url: str, var_dir: str, args: list[str]) -> dict[str, Any]:
    env = {**os.environ, "TEPAT_DATABASE_URL": url, "TEPAT_VAR_DIR": var_dir, "TEPAT_DEV": "true"}
    result = subprocess.run([sys.executable, __file__, *args], env=env, cwd=REPO,
                            capture_output=True, text=True, check=False)  # fmt: skip
    if result.returncode != 0:
        sys.exit(f"{label}: worker failed\n{result.stderr[-4000:]}")
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    figures["label"] = label
    return figures


def _admin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"refusing to drop {name!r}: a scratch database name must contain 'bench'")
    return urlunsplit(parts._replace(path="/postgres")), name


def _postgres(url: str, *, create: bool) -> None:
    import psycopg

    admin, name = _admin(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')


def _ms(values: list[float]) -> str:
    p95 = sorted(values)[max(0, int(len(values) * 0.95) - 1)]
    return f"{statistics.median(values) * 1000:8.1f} ms (p95 {p95 * 1000:.1f})"


def _report(results: list[dict[str, Any]]) -> None:
    for f in results:
        base = statistics.median(f["update_s"])
        print(f"\n== {f['label']}: {f['entries']:,}-entry log, {f['households']:,} households "
              f"({f['persons']:,} persons), {len(f['erase_s'])} erasures")  # fmt: skip
        print(f"  build: entry rows {f['entries_s']:.1f} s, tiles {f['tiles_s']:.1f} s, "
              f"registry load (sealed history) {f['load_s']:.1f} s")  # fmt: skip
        print(f"  baseline: person_update (one sealed history record)  {_ms(f['update_s'])}")
        erase = statistics.median(f["erase_s"])
        print(f"  person_erase (blockers, row, app steps, shred, audit) {_ms(f['erase_s'])}"
              f"   {erase / base:5.1f}x baseline")  # fmt: skip
        print(f"  subject_shred alone                                  {_ms(f['shred_s'])}")
        same = (f["size_before"] == f["size_after"] and f["root_before"] == f["root_after"]
                and f["digest_before"] == f["digest_after"])  # fmt: skip
        print(f"  log after erasures: size {f['size_after']:,} (before {f['size_before']:,}), "
              f"root {f['root_after'][:16]}... (before {f['root_before'][:16]}...), "
              f"entries sha256 {'equal' if f['digest_before'] == f['digest_after'] else 'CHANGED'}"
              f" -> {'UNCHANGED' if same else 'REWRITTEN'}")  # fmt: skip
        print("  old wrapped keys of the erased still in the database's files (of "
              f"{f['wrapped']}): " + "; ".join(f"{k} {v}" for k, v in f["residue"].items()))  # fmt: skip
        print(f"  full verify of {f['verify_checked']:,} entries: "
              f"{'ok' if f['verify_ok'] else 'FAILED'} in {f['verify_s']:.1f} s; inclusion and "
              "consistency proofs verify")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--erasures", type=int, default=15)
    parser.add_argument("--postgres", default=os.environ.get("TEPAT_BENCH_POSTGRES_URL", ""))
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.entries, args.households, args.erasures, os.environ["TEPAT_VAR_DIR"])
        return
    common = ["--worker", "--entries", str(args.entries), "--households", str(args.households),
              "--erasures", str(args.erasures)]  # fmt: skip
    results = []
    with tempfile.TemporaryDirectory(prefix="tepat-bench-shred-") as tmp:
        backends = [] if args.no_sqlite else [("sqlite", f"sqlite:///{tmp}/bench.sqlite3")]
        if args.postgres:
            backends.append(("postgresql", args.postgres))
        for label, url in backends:
            if label == "postgresql":
                _postgres(url, create=True)
            try:
                results.append(_run(label, url, tmp, common))
            finally:
                if label == "postgresql":
                    _postgres(url, create=False)
    _report(results)
    failed = [r["label"] for r in results if not (
        r["verify_ok"] and r["size_before"] == r["size_after"]
        and r["root_before"] == r["root_after"] and r["digest_before"] == r["digest_after"])]  # fmt: skip
    if failed:
        sys.exit(f"the log changed or did not verify on: {', '.join(failed)}")


if __name__ == "__main__":
    main()
