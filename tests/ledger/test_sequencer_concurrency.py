"""Concurrent producers and two sequencers never lose, duplicate or reorder-in-tree an entry."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from tepat.ledger import selectors
from tepat.ledger.models import LogEntry, PendingEntry
from tepat.ledger.services import ledger_enqueue_many, ledger_sequence


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_producers_and_two_sequencers_running_together_log_everything_once(
    log_signer, make_payment
):
    if connection.vendor == "sqlite" and "memory" in str(connection.settings_dict["NAME"]):
        pytest.skip("an in-memory SQLite database is not shared between threads")
    errors: list[BaseException] = []
    stop = threading.Event()

    def produce(worker: int) -> None:
        try:
            for batch in range(10):
                ledger_enqueue_many(
                    items=[
                        ("payment.sent", make_payment(i), f"w{worker}-{batch}-{i}")
                        for i in range(20)
                    ]
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def sequence() -> None:
        try:
            while not stop.is_set() or PendingEntry.objects.exists():
                ledger_sequence(max_batch=37)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    producers = [threading.Thread(target=produce, args=(w,)) for w in range(3)]
    sequencers = [threading.Thread(target=sequence) for _ in range(2)]
    for t in producers + sequencers:
        t.start()
    for t in producers:
        t.join()
    stop.set()
    for t in sequencers:
        t.join()
    assert not errors, errors
    assert LogEntry.objects.count() == 600
    assert len(set(LogEntry.objects.values_list("ref", flat=True))) == 600
    report = selectors.log_verify()
    assert report.ok, report.problems


@pytest.mark.slow
def test_producer_and_sequencer_processes_share_one_sqlite_file(tmp_path, log_signer):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).with_name("ledger_concurrency_worker.py")
    env = {
        **os.environ,
        "TEPAT_DATABASE_URL": f"sqlite:///{tmp_path / 'log.sqlite3'}",
        "TEPAT_VAR_DIR": str(tmp_path),
        "TEPAT_LEDGER_SIGNING_KEY": log_signer.skey(),
        "TEPAT_LEDGER_ORIGIN": "test.tepat/ledger",
    }

    def run(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, str(script), *args], env=env, text=True, stdout=subprocess.PIPE
        )

    assert run("migrate").wait(timeout=120) == 0
    stop = tmp_path / "stop"
    sequencers = [run("sequence", str(stop)) for _ in range(2)]
    producers = [run("produce", str(w)) for w in range(3)]
    assert [p.wait(timeout=120) for p in producers] == [0, 0, 0]
    stop.touch()
    assert [p.wait(timeout=120) for p in sequencers] == [0, 0]
    report = run("report")
    out, _ = report.communicate(timeout=120)
    assert json.loads(out) == {"ok": True, "count": 600, "distinct": 600}
