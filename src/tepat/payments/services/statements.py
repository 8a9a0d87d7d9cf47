"""Providers' statements: imported once, signed by the provider, naming only its payments."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from tepat.accounts import scoping
from tepat.core.audit import audit_record
from tepat.core.errors import FieldProblem, ValidationFailed
from tepat.payments.models import Payment, Statement, StatementLine
from tepat.payments.providers import ProviderAdapter
from tepat.payments.services.common import OPERATORS, _require

if TYPE_CHECKING:
    from tepat.accounts.models import User


def statement_import(
    *, acting_user: User, provider: str, file_name: str, data: bytes, adapter: ProviderAdapter
) -> Statement:
    """Import a provider's signed statement once (its content's hash is unique).

    The file is the provider's signed envelope (`signatures.envelope_seal`), verified with that
    provider's key before anything is read: an operator carries it, but cannot write it. Its
    lines may name only that provider's payments (or references unknown to us, which
    reconciliation reports as not ours). `provider`, when given, must be the signer."""
    from tepat.payments.providers import statement_open
    from tepat.payments.signatures import BadSignature

    _require(acting_user, OPERATORS, "mengimpor rekening koran / import statements")
    scoping.require_national(acting_user, "mengimpor rekening koran / import statements")
    try:
        signer, content = statement_open(data)
    except BadSignature as exc:
        audit_record(actor=acting_user, action="statement.refused", target_type="statement",
                     target_id=hashlib.sha256(data).hexdigest()[:16],
                     detail={"reason": exc.code, "file": file_name[:255]})  # fmt: skip
        raise ValidationFailed([FieldProblem(
            "file", f"signature_{exc.code}",
            f"Rekening koran tidak bertanda tangan sah penyalur / not a validly signed provider "
            f"statement: {exc.message}",
        )]) from None  # fmt: skip
    # Once per statement, however often it is signed or carried: the content's hash is unique.
    digest = hashlib.sha256(content).hexdigest()
    if provider and provider != "g2p-connect" and provider.upper() != signer:
        raise ValidationFailed([FieldProblem(
            "provider", "wrong_provider",
            f"Berkas ditandatangani {signer}, bukan {provider} / signed by {signer}, not {provider}",
        )])  # fmt: skip
    try:
        rows = adapter.parse_statement(content)
    except (KeyError, ValueError) as exc:
        raise ValidationFailed(
            [FieldProblem("file", "bad_statement", f"berkas tidak terbaca / unreadable: {exc}")]
        ) from None
    theirs = dict(
        Payment.objects.filter(payment_key__in=[r.reference_id for r in rows]).values_list(
            "payment_key", "provider"
        )
    )
    foreign = [
        FieldProblem(
            "reference_id",
            "wrong_provider",
            f"pembayaran penyalur {theirs[r.reference_id]} / another provider's payment",
            row=n,
        )
        for n, r in enumerate(rows, start=2)
        if r.reference_id in theirs and theirs[r.reference_id].upper() != signer
    ]
    if foreign:
        raise ValidationFailed(foreign[:100])
    day = rows[0].executed_at[:10] if rows else timezone.localdate().isoformat()
    with transaction.atomic():
        existing = Statement.objects.filter(file_sha256=digest).first()
        if existing is not None:
            return existing
        st = Statement.objects.create(provider=signer, statement_date=day, file_name=file_name[:255],
                                      file_sha256=digest, lines=len(rows), imported_by=acting_user)  # fmt: skip
        lines = [StatementLine(statement=st, reference_id=r.reference_id[:64], amount=r.amount,
                               status=r.status[:8], executed_at=r.executed_at or None) for r in rows]  # fmt: skip
        for i in range(0, len(lines), 5000):
            StatementLine.objects.bulk_create(lines[i : i + 5000])
        audit_record(actor=acting_user, action="statement.import", target_type="statement",
                     target_id=st.public_id, detail={"lines": len(rows), "file": file_name})  # fmt: skip
    return st
