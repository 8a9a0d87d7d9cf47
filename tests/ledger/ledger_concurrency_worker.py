"""Run by test_sequencer_concurrency.py in separate processes against one SQLite file:
`migrate`, `produce <worker>`, `sequence <stop-file>` or `report`."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.config.settings")
    import django

    django.setup()
    from tepat.ledger import selectors
    from tepat.ledger.models import LogEntry, PendingEntry
    from tepat.ledger.services import ledger_enqueue_many, ledger_sequence
    from tepat.payments.ledger_kinds import PaymentSent

    action = sys.argv[1]
    if action == "migrate":
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    elif action == "produce":
        worker = int(sys.argv[2])
        when = datetime(2026, 11, 28, tzinfo=UTC)
        for batch in range(10):
            items = [
                (
                    "payment.sent",
                    PaymentSent(
                        programme="PKH",
                        cycle="2026-T4",
                        time=when,
                        payment=f"p{i}",
                        beneficiary="0" * 32,
                        amount=1,
                        region="32",
                        channel="bank",
                    ),
                    f"w{worker}-{batch}-{i}",
                )
                for i in range(20)
            ]
            ledger_enqueue_many(items=items)
    elif action == "sequence":
        stop = Path(sys.argv[2])
        while not stop.exists() or PendingEntry.objects.exists():
            if not ledger_sequence(max_batch=37).count:
                time.sleep(0.01)
    elif action == "report":
        report = selectors.log_verify()
        refs = list(LogEntry.objects.values_list("ref", flat=True))
        print(json.dumps({"ok": report.ok, "count": len(refs), "distinct": len(set(refs))}))


if __name__ == "__main__":
    main()
