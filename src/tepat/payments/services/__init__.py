"""Writes for payments: issue (the outbox), claim/record (the worker), callbacks, dead letters,
statements, reconciliation, distribution and closing of a cycle.

Exactly-once rests on three things: a deterministic payment key under a unique constraint, sent to
the provider as its idempotency key; claims under a lease, so a killed worker's rows come back;
and results recorded only for rows the recording worker still holds.

After approval a cycle belongs to payments, and its lifecycle runs one way: issue, the worker,
dead letters, reconciliation, distribution, closing, and cancellation of an approved cycle all
live here, behind one lock per cycle (see `locking`). Programs exposes a small interface for it
(`entitlements_mark`, `cycle_mark_distributed`, `cycle_mark_cancelled`, `cycle_end`) and never
calls back. The worker sends only payments of a payable (approved) cycle, and nothing that may
already have executed at the provider is re-issued, retried, written off or cancelled before the
provider was asked.

One module per concern (callers use this package: `from tepat.payments import services`):

- `common`: roles, open states, settings, `Refused`;
- `keys`: deterministic payment keys;
- `locking`: the one lock per cycle (exclusive for lifecycle changes, shared for the paths that
  move payments), always taken before any payment row;
- `issue`: the outbox, within the cycle's control totals;
- `outbox`: the worker's claims under a lease, reschedules and dead letters;
- `record`: the provider's answer to the worker;
- `callbacks`: providers' verified outcomes and status polls;
- `provider`: asking the provider before touching a payment that may have executed;
- `resolve`: an operator's resolution of a dead letter;
- `statements` and `reconciliation`: providers' statements, matching and differences;
- `lifecycle`: distribution, closing and cancellation of an approved cycle;
- `handovers`: cash and e-Warung vouchers handed over at the point of distribution;
- `ledger` and `notices`: what the transparency log and the SMS outbox are told;
- `erasure`: a payee's erasure step.
"""

from tepat.payments.services.callbacks import (
    HEARS_PROVIDER,
    payments_apply_callbacks,
    payments_poll_status,
)
from tepat.payments.services.common import (
    APPROVERS,
    OPEN_STATES,
    OPERATORS,
    SYSTEM,
    P,
    Refused,
    setting,
)
from tepat.payments.services.erasure import payments_forget_payee
from tepat.payments.services.handovers import HANDOVER_CHANNELS, payments_mark_handed_over
from tepat.payments.services.issue import BULK, payments_issue
from tepat.payments.services.keys import key_prefix, payment_key
from tepat.payments.services.ledger import LedgerCycle, ledger_cycles, payment_entry
from tepat.payments.services.lifecycle import cycle_cancel, cycle_close, cycle_distribute
from tepat.payments.services.locking import PAYABLE, cycle_lock, cycles_hold
from tepat.payments.services.notices import sms_deliver
from tepat.payments.services.outbox import (
    Claimed,
    backoff_seconds,
    payments_claim,
    payments_dead_letter,
    payments_reschedule,
)
from tepat.payments.services.reconciliation import (
    UNEXPLAINABLE,
    Reconciliation,
    cycle_reconcile,
    difference_explain,
)
from tepat.payments.services.record import payments_record
from tepat.payments.services.resolve import RESOLUTIONS, payment_resolve
from tepat.payments.services.statements import statement_import

__all__ = [
    "APPROVERS",
    "BULK",
    "HANDOVER_CHANNELS",
    "HEARS_PROVIDER",
    "OPEN_STATES",
    "OPERATORS",
    "PAYABLE",
    "RESOLUTIONS",
    "SYSTEM",
    "UNEXPLAINABLE",
    "Claimed",
    "LedgerCycle",
    "P",
    "Reconciliation",
    "Refused",
    "backoff_seconds",
    "cycle_cancel",
    "cycle_close",
    "cycle_distribute",
    "cycle_lock",
    "cycle_reconcile",
    "cycles_hold",
    "difference_explain",
    "key_prefix",
    "ledger_cycles",
    "payment_entry",
    "payment_key",
    "payment_resolve",
    "payments_apply_callbacks",
    "payments_claim",
    "payments_dead_letter",
    "payments_forget_payee",
    "payments_issue",
    "payments_mark_handed_over",
    "payments_poll_status",
    "payments_record",
    "payments_reschedule",
    "setting",
    "sms_deliver",
    "statement_import",
]
