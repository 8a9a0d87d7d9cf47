"""Benchmark the transparency log: batched appends, bytes per entry, proofs at 10M entries.

Each database runs in its own process on a scratch database: a SQLite file in a temporary folder
and, when a URL is given, a PostgreSQL database that is dropped and re-created (its name must
start with `tepat_bench`). Baseline measured in the same run: raw SHA-256 leaf hashing of the same
entry bodies, with no database.

1. Appends: `--appends` payment entries are queued (`ledger_enqueue_many`) and then sequenced in
   batches of `--batch` (`ledger_sequence`: indexes, tiles, head, one signed checkpoint per
   batch), `--repeat` rounds on the growing log; medians reported.
2. Bytes stored per entry: database size of the ledger tables (entries, tiles, checkpoints,
   indexes) after the append rounds, divided by the number of entries.
3. Proofs at `--big` entries (default 10,000,000): the tile storage is written directly in bulk
   (leaf hashes of synthetic bodies "entry <i>", tile by tile, each full tile's root pushed to the
   level above, exactly what the sequencer stores) without entry rows, which proofs do not read.
   Then inclusion and consistency proofs for random indexes/sizes are generated from the stored
   tiles and verified; every proof is checked against the root, and leaf hashes are recomputed
   from the bodies.

    .venv/bin/python benchmarks/bench_ledger.py --repeat 3 \
        --postgres postgres://postgres@127.0.0.1:5432/tepat_bench_ledger
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.config.settings")
    os.environ.setdefault("TEPAT_DEV", "true")  # this machine: generated keys, plain HTTP
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _entries(start: int, count: int) -> list[tuple[str, Any, str]]:
    from tepat.payments.ledger_kinds import PaymentSent

    when = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    return [
        (
            "payment.sent",
            PaymentSent(
                programme="PKH",
                cycle="2026-T4",
                time=when,
                payment=f"pay-{i:010d}",
                beneficiary=hashlib.sha256(b"%d" % i).hexdigest()[:32],
                amount=750_000,
                region="32.73.01.1001",
                channel="bank",
            ),
            f"pay-{i:010d}",
        )
        for i in range(start, start + count)
    ]


def _db_bytes() -> dict[str, int]:
    from django.db import connection

    tables = [
        "ledger_logentry",
        "ledger_tile",
        "ledger_checkpoint",
        "ledger_loghead",
        "ledger_pendingentry",
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Sequenced queue rows are dead tuples until (auto)vacuum reclaims them.
            cursor.execute("VACUUM ledger_pendingentry")
            out = {}
            for t in tables:
                cursor.execute("SELECT pg_total_relation_size(%s)", [t])
                out[t] = int(cursor.fetchone()[0])
            return out
        cursor.execute(
            "SELECT name, tbl_name FROM sqlite_master WHERE tbl_name LIKE 'ledger_%' "
            "AND type IN ('table', 'index')"
        )
        owner = {name: tbl for name, tbl in cursor.fetchall()}
        cursor.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
        out = dict.fromkeys(tables, 0)
        for name, size in cursor.fetchall():
            if name in owner and owner[name] in out:
                out[owner[name]] += int(size)
        return out


def _worker_appends(appends: int, batch: int, repeat: int) -> None:
    _setup()
    from django.db import connection

    from tepat.ledger import merkle, selectors
    from tepat.ledger.entries import entry_json
    from tepat.ledger.models import LogEntry
    from tepat.ledger.services import ledger_enqueue_many, ledger_sequence

    hashing, enqueue, sequence, end_to_end = [], [], [], []
    done = 0
    for _ in range(repeat):
        items = _entries(done, appends)
        bodies = [entry_json(e).encode() for _, e, _ in items]
        started = time.perf_counter()
        for b in bodies:
            merkle.leaf_hash(b)
        hashing.append(appends / (time.perf_counter() - started))

        started = time.perf_counter()
        ledger_enqueue_many(items=items)
        t_enqueue = time.perf_counter() - started
        started = time.perf_counter()
        while ledger_sequence(max_batch=batch).count:
            pass
        t_sequence = time.perf_counter() - started
        enqueue.append(appends / t_enqueue)
        sequence.append(appends / t_sequence)
        end_to_end.append(appends / (t_enqueue + t_sequence))
        done += appends
    assert LogEntry.objects.count() == done
    started = time.perf_counter()
    report = selectors.log_verify()
    t_verify = time.perf_counter() - started
    assert report.ok, report.problems
    sizes = _db_bytes()
    avg_body = statistics.mean(len(b) for b in bodies)
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "entries": done,
                "hash_per_s": hashing,
                "enqueue_per_s": enqueue,
                "sequence_per_s": sequence,
                "end_to_end_per_s": end_to_end,
                "verify_s": t_verify,
                "bytes": sizes,
                "avg_body": avg_body,
            }
        )
    )


def _build_big(n: int) -> tuple[bytes, float]:
    """Write the tiles of an n-leaf log in bulk; return its root and the build time."""
    from django.db import transaction

    from tepat.ledger import merkle, tiles
    from tepat.ledger.models import LogHead, Tile

    started = time.perf_counter()
    width = tiles.WIDTH
    level_hashes: list[bytes] = []  # roots of full level-0 tiles
    rows: list[Tile] = []
    leaf_hash = merkle.leaf_hash
    with transaction.atomic():
        for tile_index in range(0, (n + width - 1) // width):
            first = tile_index * width
            count = min(width, n - first)
            leaves = [leaf_hash(b"entry %d" % i) for i in range(first, first + count)]
            rows.append(Tile(level=0, index=tile_index, hashes=b"".join(leaves)))
            if count == width:
                level_hashes.append(tiles.subtree_root(leaves))
            if len(rows) >= 500:
                Tile.objects.bulk_create(rows)
                rows = []
        level = 1
        while level_hashes:
            above: list[bytes] = []
            for i in range(0, len(level_hashes), width):
                chunk = level_hashes[i : i + width]
                rows.append(Tile(level=level, index=i // width, hashes=b"".join(chunk)))
                if len(chunk) == width:
                    above.append(tiles.subtree_root(chunk))
            level_hashes = above
            level += 1
        Tile.objects.bulk_create(rows, batch_size=500)
        from tepat.ledger.selectors import root_at

        root = root_at(n)
        LogHead.objects.update_or_create(pk=1, defaults={"size": n, "root": root})
    return root, time.perf_counter() - started


def _worker_proofs(n: int, samples: int) -> None:
    _setup()
    from django.db import connection

    from tepat.ledger import merkle, selectors

    root, build_s = _build_big(n)
    rng = random.Random(9162)
    inc_gen, inc_ver, con_gen, con_ver, root_s = [], [], [], [], []
    for _ in range(samples):
        index = rng.randrange(n)
        started = time.perf_counter()
        proof = selectors.inclusion_proof(index=index, size=n)
        inc_gen.append(time.perf_counter() - started)
        leaf = merkle.leaf_hash(b"entry %d" % index)
        started = time.perf_counter()
        merkle.verify_inclusion(index, n, leaf, proof, root)
        inc_ver.append(time.perf_counter() - started)

        first = rng.randrange(1, n)
        started = time.perf_counter()
        first_root = selectors.root_at(first)
        root_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        cproof = selectors.consistency_proof(first=first, second=n)
        con_gen.append(time.perf_counter() - started)
        started = time.perf_counter()
        merkle.verify_consistency(first, n, first_root, root, cproof)
        con_ver.append(time.perf_counter() - started)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_total_relation_size('ledger_tile')")
        else:
            cursor.execute("SELECT SUM(pgsize) FROM dbstat WHERE name LIKE '%ledger_tile%'")
        tile_bytes = int(cursor.fetchone()[0])
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "n": n,
                "build_s": build_s,
                "inclusion_gen": inc_gen,
                "inclusion_verify": inc_ver,
                "consistency_gen": con_gen,
                "consistency_verify": con_ver,
                "root_at": root_s,
                "tile_bytes": tile_bytes,
                "proof_len": len(proof),
            }
        )
    )


def _run(label: str, url: str, var_dir: str, args: list[str]) -> dict[str, Any]:
    env = {**os.environ, "TEPAT_DATABASE_URL": url, "TEPAT_VAR_DIR": var_dir}
    result = subprocess.run(
        [sys.executable, __file__, *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"{label}: worker failed\n{result.stderr}")
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    figures["label"] = label
    return figures


def _admin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith("tepat_bench"):
        sys.exit(
            f"refusing to drop {name!r}: the scratch database name must start with tepat_bench"
        )
    return urlunsplit(parts._replace(path="/postgres")), name


def _recreate_postgres(url: str) -> None:
    import psycopg

    admin, name = _admin(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop_postgres(url: str) -> None:
    import psycopg

    admin, name = _admin(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:8.3f} ms (p95 {sorted(values)[int(len(values) * 0.95) - 1] * 1000:.3f})"


def _report(appends: list[dict[str, Any]], proofs: list[dict[str, Any]], batch: int) -> None:
    for f in appends:
        base = statistics.median(f["hash_per_s"])
        print(f"\n== {f['label']}: appends, batch {batch}, {f['entries']:,} entries in total")
        for key, label in (
            ("hash_per_s", "baseline: SHA-256 leaf hashing only"),
            ("enqueue_per_s", "enqueue (producer side, bulk insert)"),
            ("sequence_per_s", "sequence (indexes, tiles, checkpoint)"),
            ("end_to_end_per_s", "enqueue + sequence"),
        ):
            median = statistics.median(f[key])
            print(f"  {label:<42}{median:>12,.0f} /s   {median / base:6.3f}x baseline")
        total = sum(v for k, v in f["bytes"].items() if k != "ledger_pendingentry")
        print(f"  full verify of {f['entries']:,} entries: {f['verify_s']:.2f} s")
        print(
            f"  bytes stored per entry (queue excluded): {total / f['entries']:.1f} "
            f"(average canonical body {f['avg_body']:.0f} B; "
            + ", ".join(
                f"{k.removeprefix('ledger_')} {v / f['entries']:.1f}" for k, v in f["bytes"].items()
            )
            + ")"
        )
    for f in proofs:
        print(f"\n== {f['label']}: proofs at {f['n']:,} entries (proof length {f['proof_len']})")
        print(
            f"  bulk build of tiles: {f['build_s']:.1f} s; tiles {f['tile_bytes'] / f['n']:.1f} B/entry"
        )
        print(f"  inclusion proof generation   {_ms(f['inclusion_gen'])}")
        print(f"  inclusion proof verification {_ms(f['inclusion_verify'])}")
        print(f"  root at a past size (tiles)  {_ms(f['root_at'])}")
        print(f"  consistency proof generation {_ms(f['consistency_gen'])}")
        print(f"  consistency verification     {_ms(f['consistency_verify'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=50_000, help="entries per round")
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--big", type=int, default=10_000_000, help="log size for proofs; 0 skips")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--postgres", default=os.environ.get("TEPAT_BENCH_POSTGRES_URL", ""))
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--worker", choices=["appends", "proofs"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "appends":
        _worker_appends(args.appends, args.batch, args.repeat)
        return
    if args.worker == "proofs":
        _worker_proofs(args.big, args.samples)
        return
    common = ["--appends", str(args.appends), "--batch", str(args.batch)]
    common += ["--repeat", str(args.repeat), "--big", str(args.big), "--samples", str(args.samples)]
    appends, proofs = [], []
    with tempfile.TemporaryDirectory(prefix="tepat-bench-ledger-") as tmp:
        backends: list[tuple[str, str]] = []
        if not args.no_sqlite:
            backends.append(("sqlite", ""))
        if args.postgres:
            backends.append(("postgresql", args.postgres))
        for label, url in backends:
            for worker, sink in (("appends", appends), ("proofs", proofs)):
                if worker == "proofs" and not args.big:
                    continue
                if label == "sqlite":
                    url = f"sqlite:///{tmp}/bench-{worker}.sqlite3"
                else:
                    _recreate_postgres(url)
                try:
                    sink.append(_run(label, url, tmp, ["--worker", worker, *common]))
                finally:
                    if label == "postgresql":
                        _drop_postgres(url)
    _report(appends, proofs, args.batch)


if __name__ == "__main__":
    main()
