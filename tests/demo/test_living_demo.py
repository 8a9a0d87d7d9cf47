"""`tepat demo` ends with a living system: boundaries for the public map, complaints, review pairs
and one cycle paid through the provider simulator, sequenced into the log, with open data; and
it prints the address it is served on (`make demo DEMO_ADDR=...`)."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from tepat.demo.management.commands.demo import _browsable
from tests.conftest import shared_path

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_demo_ends_with_a_cycle_paid_through_the_simulator_and_published(
    settings, tmp_path, capsys
):
    from tepat.grievances.models import Complaint
    from tepat.integration.models import ReviewPair
    from tepat.ledger.models import Checkpoint, LogHead, PendingEntry
    from tepat.payments.models import Payment, Statement
    from tepat.programs.models import Cycle
    from tepat.regions.models import RegionBoundary
    from tepat.transparency.models import OpenDataRelease

    settings.VAR_DIR = tmp_path
    settings.TRANSPARENCY_OPENDATA_DIR = str(tmp_path / "opendata")
    # 3,000 persons give a survey large enough for a PMT, hence desil, hence a PKH list.
    call_command("demo", "--persons", "3000", "--seed", "42", "--addr", "127.0.0.1:8123")
    out = capsys.readouterr().out

    cycle = Cycle.objects.get(programme__code__startswith="PKH-", code__endswith="-T1")
    assert cycle.state == "ended"  # computed, approved, issued, paid, distributed, closed
    assert cycle.created_by.username == "operator"
    assert cycle.approved_by.username == "supervisor"  # maker-checker held
    payments = Payment.objects.filter(cycle=cycle)
    assert payments.count() == cycle.entitled_count > 0
    assert set(payments.values_list("state", flat=True)) == {"paid"}
    assert payments.filter(reconciled=True).count() == payments.count()
    # Paid through the simulator over HTTP: its own journal holds each payment exactly once.
    journal = sqlite3.connect(tmp_path / "demo" / "provider-sim" / "journal.sqlite3")
    executed = dict(journal.execute("SELECT reference_id, replays FROM executions").fetchall())
    assert set(executed) == set(payments.values_list("payment_key", flat=True))
    assert Statement.objects.exists()  # the providers' signed statements, imported
    # Sequenced into the transparency log, a signed checkpoint published, open data exported.
    assert PendingEntry.objects.count() == 0
    assert LogHead.objects.get().size >= payments.count()
    assert Checkpoint.objects.exists()
    release = OpenDataRelease.objects.get()
    assert Path(release.directory).is_dir()
    # Something to look at: complaints in the operator's inbox, pairs in the review queue.
    assert Complaint.objects.filter(village_code__startswith="3273").count() == 3
    assert ReviewPair.objects.exists()
    if Path(shared_path("data", "geo")).is_dir():
        assert RegionBoundary.objects.filter(region__level="province").count() == 38
        assert RegionBoundary.objects.filter(region__level="regency").count() > 500
    assert f"http://127.0.0.1:8123/program/tahap/{cycle.public_id}/" in out
    assert "http://127.0.0.1:8000" not in out
    # The printed synthetic recipient finds their paid tahap at /cek/.
    from tepat.portal.selectors import status_by_nik

    found = re.search(r"/cek/ .*NIK (\d{16}), nama / name (.+)$", out, re.MULTILINE)
    assert found, out[-2000:]
    status = status_by_nik(nik=found.group(1), name=found.group(2))
    assert status is not None
    assert [row.status for row in status.rows] == ["paid"]

    # A second run reuses everything: no second payment, no replay at the provider, one release.
    call_command("demo", "--persons", "3000", "--seed", "42")
    assert Payment.objects.count() == payments.count()
    assert Cycle.objects.count() == 1
    assert OpenDataRelease.objects.count() == 1
    assert Complaint.objects.count() == 3
    replays = journal.execute("SELECT sum(replays), count(*) FROM executions").fetchone()
    assert replays == (0, len(executed))


@pytest.mark.parametrize(
    ("addr", "url"),
    [
        ("127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("8123", "http://127.0.0.1:8123"),
        ("0.0.0.0:9000", "http://127.0.0.1:9000"),
        ("[::]:9000", "http://127.0.0.1:9000"),
        ("demo.local:8000", "http://demo.local:8000"),
    ],
)
def test_the_printed_address_is_the_one_served(addr, url):
    assert _browsable(addr) == url


@pytest.mark.skipif(shutil.which("make") is None, reason="make is absent")
def test_make_demo_passes_its_address_to_the_demo_and_to_the_server():
    dry = subprocess.run(
        ["make", "-n", "demo", "DEMO_ADDR=127.0.0.1:8123"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    joined = " ".join(dry.replace("\\\n", " ").split())  # continuation lines joined
    assert "tepat demo --regency 3273 --persons 50000 --addr 127.0.0.1:8123" in joined
    assert "runserver 127.0.0.1:8123" in dry
    # Beside the server: the background worker, the provider simulator and the payments worker.
    assert "db_worker" in dry
    assert "provider-sim" in dry
    assert "tepat worker --sms" in dry
