"""The signed-in citizen: one-time codes, payment history with ledger receipts, family, and
notification preferences. Reads and writes here touch only the citizen's own household.

Requesting a code answers the same way whether or not the NIK is registered with a phone, so
the sign-in form cannot be used to enumerate NIKs either: the request does the same work for
every NIK (it queues a code without reading the registry) and sends nothing itself. The
worker (`tepat worker --sms`, `otp_deliver`) finds the phone and sends the code, or drops it.
Neither the answer nor its timing says whether a NIK has a phone, and the form is no lever to
make the server send SMS at the rate of the web tier.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tepat.core import crypto
from tepat.core.audit import audit_record
from tepat.core.errors import NotFound, TepatError
from tepat.core.masking import mask_name
from tepat.payments.models import Payment
from tepat.portal.models import CitizenOtp, NotificationPreference
from tepat.registry import sealed
from tepat.registry.models import Person
from tepat.registry.sealed import PHONE as PHONE_CONTEXT

OTP_TTL_S = 300
OTP_ATTEMPTS = 5


def _code_hash(otp_id_salt: str, code: str) -> str:
    key = hashlib.sha256(("otp:" + settings.SECRET_KEY).encode()).digest()
    return hmac.new(key, f"{otp_id_salt}:{code}".encode(), hashlib.sha256).hexdigest()


OTP_CONTEXT = "portal.otp"
OTP_BODY = "Kode masuk Tepat: {code}. Berlaku 5 menit. Jangan berikan kode ini kepada siapa pun."


def otp_request(*, nik: str) -> str:
    """Queue a 6-digit code for the phone registered for `nik`, if there is one; returns the
    NIK's blind index (what the session keeps for step two).

    The same steps for every NIK, registered or not: a code, its hash, its encryption and one
    insert; no read of the registry and no SMS here (see the module docstring)."""
    index = nik_index(nik)
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(8)
    CitizenOtp.objects.create(
        nik_index=index,
        code_hash=f"{salt}${_code_hash(salt, code)}",
        code_enc=crypto.encrypt(code, context=OTP_CONTEXT),
        expires_at=timezone.now() + dt.timedelta(seconds=OTP_TTL_S),
    )
    return index


def otp_deliver(*, gateway: Any, batch: int = 200) -> int:
    """Send queued sign-in codes, oldest first, to the phone registered for their NIK; returns
    how many the gateway accepted. A code whose NIK has no phone, or that expired before it
    could go out, is dropped (its encrypted code erased: nobody will ever see it). A code the
    gateway refused stays queued for the next turn (the gateway dedupes on the event key)."""
    now = timezone.now()
    rows = list(
        CitizenOtp.objects.filter(state=CitizenOtp.State.QUEUED)
        .order_by("id")
        .only("id", "nik_index", "code_hash", "code_enc", "expires_at")[:batch]
    )
    if not rows:
        return 0
    people = {
        p.nik_index: p
        for p in Person.objects.filter(nik_index__in={r.nik_index for r in rows}).only(
            "nik_index", "public_id", "phone_enc"
        )
    }
    messages: list[tuple[str, str, str]] = []
    refs: dict[str, tuple[int, str]] = {}
    dropped: list[int] = []
    for row in rows:
        person = people.get(row.nik_index)
        if person is None or not person.phone_enc or row.expires_at <= now:
            dropped.append(row.pk)
            continue
        key = f"otp-{row.pk}-{row.code_hash.split('$', 1)[0]}"
        code = crypto.decrypt(row.code_enc, context=OTP_CONTEXT)
        phone = sealed.unseal(person.phone_enc, context=PHONE_CONTEXT, row=person.public_id)
        messages.append((key, phone, OTP_BODY.format(code=code)))
        refs[key] = (row.pk, person.public_id)
    if dropped:
        CitizenOtp.objects.filter(pk__in=dropped, state=CitizenOtp.State.QUEUED).update(
            state=CitizenOtp.State.DROPPED, code_enc=""
        )
    accepted = gateway.send(messages) if messages else []
    sent_at = timezone.now()
    with transaction.atomic():
        for key in accepted:
            pk, ref = refs[key]
            CitizenOtp.objects.filter(pk=pk, state=CitizenOtp.State.QUEUED).update(
                state=CitizenOtp.State.SENT, sent_at=sent_at, person_ref=ref, code_enc=""
            )
    return len(accepted)


def nik_index(nik: str) -> str:
    return crypto.blind_index(nik, purpose="nik")


def otp_verify(*, index: str, code: str) -> str | None:
    """The person's public id when `code` is the latest live code for the NIK whose blind index
    is `index` (the session keeps the index between the two steps, never the NIK); else None."""
    with transaction.atomic():
        otp = (
            CitizenOtp.objects.select_for_update()
            .filter(nik_index=index, used_at__isnull=True, expires_at__gt=timezone.now())
            .order_by("-id")
            .first()
        )
        if otp is None or otp.attempts >= OTP_ATTEMPTS:
            return None
        # A code that was never sent (queued, or dropped: no phone for the NIK) is checked and
        # counted like any other, and never signs in: the same work either way.
        salt, digest = otp.code_hash.split("$", 1)
        good = hmac.compare_digest(digest, _code_hash(salt, (code or "").strip()))
        if not good or otp.state != CitizenOtp.State.SENT:
            otp.attempts += 1
            otp.save(update_fields=["attempts"])
            return None
        otp.used_at = timezone.now()
        otp.save(update_fields=["used_at"])
    audit_record(
        actor=None, action="citizen.sign_in", target_type="person", target_id=otp.person_ref
    )
    return otp.person_ref


def citizen_person(*, person_ref: str) -> Person:
    person = Person.objects.select_related("household").filter(public_id=person_ref).first()
    if person is None:
        raise NotFound()
    return person


@dataclass
class PaymentRow:
    public_id: str
    programme: str
    cycle: str
    tahap: int
    amount: int
    channel: str
    state: str
    settled_at: dt.datetime | None
    receipt_indexes: list[int]


def payment_history(*, person: Person) -> list[PaymentRow]:
    from tepat.ledger.models import LogEntry

    payments = list(
        Payment.objects.filter(entitlement__household_id=person.household_id)
        .select_related("cycle__programme")
        .order_by("-cycle__period_start", "-id")
    )
    refs = [p.public_id for p in payments]
    receipts: dict[str, list[int]] = {}
    for ref, index in (
        LogEntry.objects.filter(ref__in=refs).order_by("index").values_list("ref", "index")
    ):
        receipts.setdefault(ref, []).append(index)
    return [
        PaymentRow(
            public_id=p.public_id,
            programme=p.cycle.programme.name,
            cycle=p.cycle.code,
            tahap=p.cycle.instalment,
            amount=p.amount,
            channel=str(p.get_channel_display()),
            state=str(p.get_state_display()),
            settled_at=p.settled_at,
            receipt_indexes=receipts.get(p.public_id, []),
        )
        for p in payments
    ]


def receipt_for(*, person: Person, payment_ref: str, index: int) -> dict[str, Any]:
    """A ledger receipt, only for a payment to the citizen's own household."""
    from tepat.ledger import selectors as ledger
    from tepat.ledger.models import LogEntry

    payment = Payment.objects.filter(
        public_id=payment_ref, entitlement__household_id=person.household_id
    ).first()
    if payment is None or not LogEntry.objects.filter(ref=payment_ref, index=index).exists():
        raise NotFound()
    receipt = ledger.receipt(index=index)
    # A version-2 entry shows a band and a per-payment pseudonym; the household's own receipt
    # opens it (tepat.ledger.receipts), proving the exact amount the signed log committed to.
    body = json.loads(receipt["entry"])
    if body.get("v") == 2 and body.get("payment") == payment.public_id and payment.ledger_salt:
        receipt["opening"] = {
            "salt": payment.ledger_salt,
            "beneficiary": payment.beneficiary_ref,
            "amount": payment.amount,
        }
    return receipt


@dataclass
class MemberRow:
    public_id: str
    masked_name: str
    relationship: str
    is_self: bool
    disputed: bool


def family(*, person: Person) -> list[MemberRow]:
    from tepat.grievances.models import Category, Complaint

    disputed = set(
        Complaint.objects.filter(
            filed_by_ref=person.public_id, category=Category.NOT_FAMILY
        ).values_list("subject_person_ref", flat=True)
    )
    return [
        MemberRow(
            public_id=m.public_id,
            masked_name=mask_name(m.full_name),
            relationship=str(m.get_relationship_display()),
            is_self=m.pk == person.pk,
            disputed=m.public_id in disputed,
        )
        for m in person.household.members.filter(deceased_on__isnull=True).order_by("id")
    ]


def family_dispute(*, person: Person, member_ref: str) -> str:
    """ "Bukan keluarga": a complaint that `member_ref` is not in the citizen's family.
    Returns its tracking code; filing twice returns the first."""
    from tepat.grievances.models import Category
    from tepat.grievances.services import complaint_submit

    member = person.household.members.filter(public_id=member_ref).first()
    if member is None or member.pk == person.pk:
        raise TepatError("Anggota keluarga tidak dikenal / unknown member", field="member")
    complaint, _ = complaint_submit(
        submission_key=f"nf{person.public_id}{member.public_id}",
        category=Category.NOT_FAMILY,
        village_code=person.household.village_id,
        description=(
            f"Warga menyatakan {mask_name(member.full_name)} ({member.public_id}) "
            "bukan anggota keluarganya. Mohon verifikasi data KK."
        ),
        filed_by_ref=person.public_id,
        subject_person_ref=member.public_id,
    )
    return complaint.tracking_code


def preferences_get(*, person: Person) -> NotificationPreference:
    pref, _ = NotificationPreference.objects.get_or_create(person_ref=person.public_id)
    return pref


def preferences_set(
    *, person: Person, sms_payment: bool, sms_schedule: bool, sms_grievance: bool
) -> NotificationPreference:
    with transaction.atomic():
        pref, _ = NotificationPreference.objects.select_for_update().get_or_create(
            person_ref=person.public_id
        )
        pref.sms_payment = sms_payment
        pref.sms_schedule = sms_schedule
        pref.sms_grievance = sms_grievance
        pref.save()
    return pref


def preferences_peek(*, person_ref: str) -> NotificationPreference:
    """The person's notification preferences as stored, or the defaults (unsaved) when they
    never chose: a read that writes nothing."""
    found = NotificationPreference.objects.filter(person_ref=person_ref).first()
    return found or NotificationPreference(person_ref=person_ref)


def sign_in_codes(*, person: Person) -> list[CitizenOtp]:
    """Sign-in codes asked for with the person's NIK (newest first): when sent, whether used."""
    from django.db.models import Q

    return list(
        CitizenOtp.objects.filter(Q(person_ref=person.public_id) | Q(nik_index=person.nik_index))
        .only("state", "sent_at", "used_at", "expires_at", "created_at", "attempts")
        .order_by("-id")
    )


def portal_forget_person(*, person_ref: str, nik_index: str, **_: Any) -> int:
    """Erasure (UU 27/2022 Art. 8, through registry.rights): the person's sign-in codes (kept
    under their NIK's blind index) and notification preferences are deleted."""
    from django.db.models import Q

    otps, _n = CitizenOtp.objects.filter(Q(person_ref=person_ref) | Q(nik_index=nik_index)).delete()
    prefs, _n = NotificationPreference.objects.filter(person_ref=person_ref).delete()
    return otps + prefs
