"""The signed-in citizen: NIK + one-time code by SMS, payment history with ledger receipts to
download, family members with a "bukan keluarga" dispute, notification preferences."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from tepat.grievances.models import Complaint
from tepat.portal.models import CitizenOtp, NotificationPreference
from tests.portal.conftest import solve

pytestmark = pytest.mark.django_db


@pytest.fixture
def outbox(settings, tmp_path):
    settings.TEPAT_SMS_SIM_PATH = str(tmp_path / "outbox.jsonl")
    return tmp_path / "outbox.jsonl"


def _last_code(outbox) -> str:
    last = json.loads(outbox.read_text().splitlines()[-1])
    m = re.search(r"\b(\d{6})\b", last["body"])
    assert m
    return m.group(1)


def _request_code(client, nik: str):
    """Ask for a code, then let the worker's turn send what the request queued."""
    from tepat.messaging.gateway import sms_gateway
    from tepat.portal.citizen import otp_deliver

    page = client.get("/akun/masuk/").content.decode()
    r = client.post("/akun/masuk/", {"nik": nik, **solve(page)})
    otp_deliver(gateway=sms_gateway())
    return r


def _sign_in(client, citizen, outbox):
    assert _request_code(client, citizen["nik"]).status_code == 302
    r = client.post("/akun/kode/", {"code": _last_code(outbox)})
    assert r.status_code == 302
    assert r["Location"] == "/akun/"
    return client


def test_a_citizen_signs_in_with_a_code_sent_to_the_registered_phone(client, citizen, outbox):
    _sign_in(client, citizen, outbox)
    sent = json.loads(outbox.read_text().splitlines()[-1])
    assert sent["to"] == "081234567890"  # the registered phone, not a person id
    html = client.get("/akun/").content.decode()
    assert "As** Su******" in html
    assert citizen["nik"] not in html
    assert CitizenOtp.objects.get().used_at is not None


def test_an_unregistered_nik_gets_the_same_answer_and_no_sms(client, citizen, outbox):
    r = _request_code(client, "3273011205809999")
    assert r.status_code == 302
    assert r["Location"] == "/akun/kode/"
    assert not outbox.exists()
    assert client.post("/akun/kode/", {"code": "123456"}).status_code == 400


def test_a_wrong_code_is_refused_and_five_wrong_codes_burn_it(client, citizen, outbox):
    _request_code(client, citizen["nik"])
    good = _last_code(outbox)
    bad = f"{(int(good) + 1) % 10**6:06d}"
    for _ in range(5):
        assert client.post("/akun/kode/", {"code": bad}).status_code == 400
    assert client.post("/akun/kode/", {"code": good}).status_code == 400


def test_the_code_is_stored_only_as_a_hash(client, citizen, outbox):
    _request_code(client, citizen["nik"])
    assert _last_code(outbox) not in CitizenOtp.objects.get().code_hash


def test_codes_per_nik_are_limited(client, citizen, outbox, settings):
    settings.TEPAT_OTP_PER_NIK_HOUR = 2
    codes = [_request_code(client, citizen["nik"]).status_code for _ in range(3)]
    assert codes == [302, 302, 429]


def test_pages_need_a_signed_in_citizen(client, citizen):
    assert client.get("/akun/")["Location"] == "/akun/masuk/"
    assert client.get("/akun/kode/")["Location"] == "/akun/masuk/"


def test_payment_history_offers_a_ledger_receipt_to_download(client, citizen, outbox, settings):
    from tepat.ledger.entries import pseudonymise
    from tepat.ledger.note import Signer
    from tepat.ledger.services import ledger_enqueue_many, ledger_sequence
    from tepat.payments.ledger_kinds import PaymentSent
    from tepat.payments.models import Payment

    signer = Signer.generate("test.tepat/ledger")
    settings.LEDGER_ORIGIN = "test.tepat/ledger"
    settings.LEDGER_SIGNING_KEY = signer.skey()
    pay = Payment.objects.get()
    entry = PaymentSent(
        programme="PKH",
        cycle="2026-T4",
        time=datetime(2026, 11, 28, 8, 0, tzinfo=UTC),
        payment=pay.public_id,
        beneficiary=pseudonymise(citizen["nik"]),
        amount=750_000,
        region="32.73.01.1001",
        channel="cash_pos",
    )
    ledger_enqueue_many(items=[("payment.sent", entry, pay.public_id)])
    ledger_sequence(max_batch=10)
    _sign_in(client, citizen, outbox)
    html = client.get("/akun/").content.decode()
    url = f"/akun/tanda-terima/{pay.public_id}/0.json"
    assert url in html
    assert "/ledger/verify/" in html
    r = client.get(url)
    assert r["Content-Disposition"] == 'attachment; filename="tanda-terima-0.json"'
    receipt = json.loads(r.content)
    assert receipt["index"] == 0
    assert receipt["checkpoint"]
    assert client.get("/akun/tanda-terima/someoneelse00000/0.json").status_code == 404


def test_a_citizen_disputes_a_family_member_once(client, citizen, outbox):
    _sign_in(client, citizen, outbox)
    household = citizen["head"].household
    child = household.members.get(relationship="child")
    r = client.post("/akun/", {"action": "not_family", "member": child.public_id})
    notice = r.content.decode()
    c = Complaint.objects.get()
    assert c.tracking_code in notice
    assert c.category == "not_family"
    assert c.subject_person_ref == child.public_id
    assert c.filed_by_ref == citizen["head"].public_id
    client.post("/akun/", {"action": "not_family", "member": child.public_id})
    assert Complaint.objects.count() == 1
    assert "sanggahan tercatat" in client.get("/akun/").content.decode()
    r = client.post("/akun/", {"action": "not_family", "member": citizen["head"].public_id})
    assert Complaint.objects.count() == 1


def test_notification_preferences_are_saved(client, citizen, outbox):
    _sign_in(client, citizen, outbox)
    client.post("/akun/", {"action": "preferences", "sms_payment": "on"})
    pref = NotificationPreference.objects.get(person_ref=citizen["head"].public_id)
    assert pref.sms_payment
    assert not pref.sms_schedule
    assert not pref.sms_grievance


def test_signing_out_ends_the_session(client, citizen, outbox):
    _sign_in(client, citizen, outbox)
    client.post("/akun/keluar/")
    assert client.get("/akun/").status_code == 302
