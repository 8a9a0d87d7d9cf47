"""Asking the provider before touching a payment that may have executed (a dead letter
resolved, a cycle cancelled): outside any transaction, so no lock is held over the network."""

from __future__ import annotations

from collections.abc import Sequence

from tepat.core.errors import TepatError
from tepat.payments.models import Payment
from tepat.payments.providers import (
    IdempotencyConflict,
    Outcome,
    ProviderAdapter,
    TransientProviderError,
    default_adapter,
)
from tepat.payments.services.common import Refused

_PROVIDER_ERRORS = (TransientProviderError, IdempotencyConflict, TepatError, OSError, ValueError,
                    KeyError)  # fmt: skip


def _ask_provider(
    adapter: ProviderAdapter | None, payments: Sequence[Payment]
) -> dict[str, Outcome]:
    """The provider's word on each payment: payment key -> its outcome (a key it did not answer
    for is missing). Asked outside any transaction, so no lock is held over the network; refused
    whole when the provider cannot be asked, for then any of them may have executed."""
    keys = [p.payment_key for p in payments]
    if not keys:
        return {}
    adapter = adapter or default_adapter()
    out: dict[str, Outcome] = {}
    try:
        for i in range(0, len(keys), 500):
            out.update((o.reference_id, o) for o in adapter.status(keys[i : i + 500]))
    except _PROVIDER_ERRORS as exc:
        raise Refused(
            f"Penyalur tidak dapat ditanya ({exc}); pembayaran mungkin sudah dijalankan, coba lagi "
            f"nanti / the provider could not be asked: the payment may have executed; try later",
            code="provider_status_unknown",
        ) from None
    return out


def _executed(p: Payment, o: Outcome | None) -> str:
    """'yes' when the provider says it paid, 'no' when it says, under its own verified name,
    that it did not (rejected, or never received), else 'unknown': no answer, an unverified one,
    or one still in progress (pdng, rcvd), so it may still execute."""
    if o is None or o.status not in ("succ", "rjct"):
        return "unknown"
    if o.status == "succ":
        return "yes"  # whoever says so: a claimed success always stops a second payment
    if not o.provider or o.provider != p.provider.strip().upper():
        return "unknown"
    return "no"


def _unknown(payments: Sequence[Payment]) -> Refused:
    names = ", ".join(p.public_id for p in payments[:5])
    return Refused(
        f"Penyalur belum dapat memastikan {len(payments)} pembayaran ({names}); mungkin sudah "
        f"dijalankan, coba lagi nanti / the provider cannot yet say whether {len(payments)} "
        f"payment(s) executed: try again later",
        code="provider_status_unknown",
    )
