"""The channel between Tepat and its payment providers (banks, PT Pos, e-wallets).

Attacks tried: the old shared bearer token on the callback endpoint; a callback signed by no key,
by an unknown provider, by one provider about another's payment, with a changed body, replayed,
or outside the replay window; a signed success for a payment never sent, or for 1 rupiah against
Rp1,125,000; a forged rejection of a never-sent payment; a callback without `reference_id` (it
gave HTTP 500); an unverified answer to the worker; a success answer for another amount; the
worker leaking a credential to a provider; an unsigned statement, a re-written one, one provider's
statement reporting another's payments; and the importer of a statement explaining away the
differences it shows.
"""

from __future__ import annotations

import io
import json
import time
import urllib.request
from typing import Any

import pytest

from tepat.core.errors import PermissionDenied, ValidationFailed
from tepat.core.models import AuditEvent
from tepat.payments import services as pay  # aliased: the star import brings programs.services
from tepat.payments import signatures, worker
from tepat.payments.models import Difference, Payment, PaymentState
from tepat.payments.providers import G2PConnectAdapter
from tests.payments.conftest import *  # noqa: F403 - the payments cast, the simulator, the keys
from tests.payments.conftest import provider_private_key

pytestmark = pytest.mark.django_db

URL = "/api/payments/callbacks/on-disburse"
OLD_TOKEN = "rahasia-lama"  # the static token of the old scheme: set, to show it no longer opens


@pytest.fixture(autouse=True)
def old_token(settings: Any) -> None:
    # Before issue 16 this token alone let anyone post callbacks for every provider: each test
    # below also presents it, so that it fails on that code for what it proves, not for a 401.
    settings.TEPAT_PROVIDER_CALLBACK_TOKEN = OLD_TOKEN


@pytest.fixture
def issued(approved_cycle: Any, bandung_operator: Any) -> Any:
    pay.payments_issue(acting_user=bandung_operator, cycle=approved_cycle)
    return approved_cycle


@pytest.fixture
def sent(issued: Any) -> list[Payment]:
    Payment.objects.update(state=PaymentState.SENT)
    return list(Payment.objects.order_by("id"))


def _status(p: Payment, status: str = "succ", **overrides: Any) -> dict[str, Any]:
    return {"reference_id": p.payment_key, "status": status, "amount": str(p.amount),
            "currency_code": "IDR", "timestamp": "2026-12-07T01:00:00Z", **overrides}  # fmt: skip


def _body(statuses: list[dict[str, Any]]) -> bytes:
    return json.dumps({
        "header": {"version": "1.0.0", "message_id": "m1", "action": "on-disburse"},
        "message": {"transaction_id": "cb", "disbursements_status": statuses},
    }).encode()  # fmt: skip


def _headers(h: dict[str, str]) -> dict[str, str]:
    return {"HTTP_" + k.upper().replace("-", "_"): v for k, v in h.items()}


def post_callback(client: Any, body: bytes, *, provider: str = "BRI", key: Any = None,
                  timestamp: int | None = None, sent_body: bytes | None = None) -> Any:  # fmt: skip
    signed = signatures.sign(key or provider_private_key(provider), provider=provider, body=body,
                             timestamp=timestamp)  # fmt: skip
    return client.post(URL, data=sent_body or body, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {OLD_TOKEN}", **_headers(signed))  # fmt: skip


def _states() -> set[str]:
    return set(Payment.objects.values_list("state", flat=True))


# --- who may call back ---------------------------------------------------------------------


def test_the_old_shared_bearer_token_no_longer_opens_the_callback_endpoint(client, sent):
    r = client.post(URL, data=_body([_status(sent[0])]), content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {OLD_TOKEN}")  # fmt: skip
    assert r.status_code == 401
    assert _states() == {PaymentState.SENT}


def test_a_provider_without_a_configured_key_is_not_heard(client, sent):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    r = post_callback(client, _body([_status(sent[0])]), provider="XBANK",
                      key=Ed25519PrivateKey.generate())  # fmt: skip
    assert r.status_code == 401
    assert _states() == {PaymentState.SENT}


def test_a_callback_signed_with_another_key_than_the_providers_is_refused(client, sent):
    r = post_callback(client, _body([_status(sent[0])]), provider="BRI",
                      key=provider_private_key("POS"))  # fmt: skip
    assert r.status_code == 401
    assert _states() == {PaymentState.SENT}


def test_a_body_changed_after_signing_does_not_verify(client, sent):
    signed_for = _body([_status(sent[0], "rjct", status_reason_code="x")])
    r = post_callback(client, signed_for, sent_body=_body([_status(sent[0])]))
    assert r.status_code == 401
    assert _states() == {PaymentState.SENT}


def test_a_replayed_callback_is_refused(client, sent):
    body = _body([_status(sent[0])])
    signed = signatures.sign(provider_private_key("BRI"), provider="BRI", body=body)
    first = client.post(URL, data=body, content_type="application/json",
                        HTTP_AUTHORIZATION=f"Bearer {OLD_TOKEN}", **_headers(signed))  # fmt: skip
    again = client.post(URL, data=body, content_type="application/json",
                        HTTP_AUTHORIZATION=f"Bearer {OLD_TOKEN}", **_headers(signed))  # fmt: skip
    assert first.status_code == 200
    assert again.status_code == 401


def test_a_callback_outside_the_replay_window_is_refused(client, sent):
    r = post_callback(client, _body([_status(sent[0])]), timestamp=int(time.time()) - 3600)
    assert r.status_code == 401
    assert _states() == {PaymentState.SENT}


# --- what a provider may say ---------------------------------------------------------------


def test_a_provider_cannot_settle_another_providers_payment(client, sent):
    assert sent[0].provider == "BRI"
    r = post_callback(client, _body([_status(sent[0])]), provider="POS")
    assert r.status_code == 200
    assert r.json()["refused"] == 1
    assert Payment.objects.get(pk=sent[0].pk).state == PaymentState.SENT
    assert AuditEvent.objects.filter(action="payment.callback_refused",
                                     detail__reason="wrong_provider").exists()  # fmt: skip


def test_a_signed_success_for_a_payment_never_sent_does_not_pay_it(client, issued):
    p = Payment.objects.order_by("id").first()
    r = post_callback(client, _body([_status(p)]))
    assert r.status_code == 200
    assert r.json()["paid"] == 0
    p.refresh_from_db()
    assert p.state == PaymentState.ISSUED
    assert p.entitlement.state == "approved"


def test_a_forged_rejection_of_a_never_sent_payment_changes_nothing_and_is_recorded(client, issued):
    p = Payment.objects.order_by("id").first()
    r = post_callback(
        client, _body([_status(p, "rjct", status_reason_code="rjct.payee_fa.invalid")])
    )
    assert r.status_code == 200
    assert r.json()["failed"] == 0
    p.refresh_from_db()
    assert p.state == PaymentState.ISSUED
    assert AuditEvent.objects.filter(action="payment.callback_refused", target_id=p.public_id,
                                     detail__reason="not_sent").exists()  # fmt: skip


def test_a_success_for_one_rupiah_against_the_amount_due_is_refused_and_becomes_a_difference(
    client, sent
):
    p = sent[0]
    r = post_callback(client, _body([_status(p, amount="1")]))
    assert r.status_code == 200
    assert r.json()["refused"] == 1
    p.refresh_from_db()
    assert p.state == PaymentState.SENT
    assert "amount_differs" in p.last_error
    d = Difference.objects.get(reference_id=p.payment_key)
    assert (d.kind, d.ours_amount, d.their_amount, d.cycle_id) == ("callback_refused", p.amount,
                                                                  1, p.cycle_id)  # fmt: skip


def test_reconciliation_keeps_the_difference_a_refused_callback_left(client, sent, supervisor):
    from tepat.payments import services

    p = sent[0]
    post_callback(client, _body([_status(p, amount="1")]))
    services.cycle_reconcile(acting_user=supervisor, cycle=p.cycle)  # no statement confirms it
    services.cycle_reconcile(acting_user=supervisor, cycle=p.cycle)
    assert Difference.objects.filter(reference_id=p.payment_key, kind="callback_refused").exists()


def test_a_success_in_another_currency_is_refused(client, sent):
    r = post_callback(client, _body([_status(sent[0], currency_code="USD")]))
    assert r.json()["refused"] == 1
    assert Payment.objects.get(pk=sent[0].pk).state == PaymentState.SENT


@pytest.mark.parametrize(
    ("drop", "field"),
    [
        ("reference_id", "message.disbursements_status[0].reference_id"),
        ("amount", "message.disbursements_status[0].amount"),
        ("currency_code", "message.disbursements_status[0].currency_code"),
        ("status", "message.disbursements_status[0].status"),
    ],
)
def test_a_callback_missing_a_field_gets_400_naming_the_field(client, sent, drop, field):
    status = _status(sent[0])
    del status[drop]
    r = post_callback(client, _body([status]))
    assert r.status_code == 400
    assert r.json()["field"] == field
    assert _states() == {PaymentState.SENT}


def test_a_callback_whose_body_is_not_json_gets_400(client, sent):
    r = post_callback(client, b"not json")
    assert r.status_code == 400
    assert r.json()["field"] == "body"


def test_a_signed_success_for_the_right_amount_settles_the_payment(client, sent):
    r = post_callback(client, _body([_status(sent[0])]))
    assert r.json() == {"paid": 1, "failed": 0, "ignored": 0, "refused": 0}
    assert Payment.objects.get(pk=sent[0].pk).state == PaymentState.PAID


# --- what the worker sends and believes ----------------------------------------------------


class _Answer(io.BytesIO):
    def __init__(self, data: bytes, headers: dict[str, str]) -> None:
        super().__init__(data)
        self.headers = headers
        self.status = 200

    def __enter__(self) -> _Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fake_provider(monkeypatch, answer: Any) -> list[urllib.request.Request]:
    """Replace the network: record each request and answer with `answer(request)`."""
    seen: list[urllib.request.Request] = []

    def urlopen(req: urllib.request.Request, timeout: float = 0) -> _Answer:
        seen.append(req)
        return answer(req)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return seen


def _signed_answer(provider: str, statuses: list[dict[str, Any]], key: Any = None) -> _Answer:
    data = json.dumps({"message": {"disbursements_status": statuses}}).encode()
    return _Answer(data, signatures.sign(key or provider_private_key(provider), provider=provider,
                                         body=data))  # fmt: skip


def test_the_worker_sends_no_credential_to_a_provider(issued, monkeypatch):
    pays = {p.payment_key: p for p in Payment.objects.all()}

    def answer(req: urllib.request.Request) -> _Answer:
        items = json.loads(req.data)["message"]["disbursements"]
        return _signed_answer("BRI", [_status(pays[i["reference_id"]]) for i in items])

    seen = _fake_provider(monkeypatch, answer)
    worker.run(adapter=G2PConnectAdapter("http://bank.invalid", callback_url=""),
               config=worker.WorkerConfig(), once=True)  # fmt: skip
    assert seen
    for req in seen:
        names = {k.lower() for k in req.headers}
        assert "x-callback-token" not in names
        assert "authorization" not in names
        assert OLD_TOKEN not in json.dumps(dict(req.headers))
        assert req.headers.get("X-tepat-provider") == "BRI"
    assert _states() == {PaymentState.PAID}


def test_an_answer_not_signed_by_the_provider_settles_nothing(issued, monkeypatch):
    pays = list(Payment.objects.all())

    def answer(req: urllib.request.Request) -> _Answer:
        return _signed_answer("BRI", [_status(p) for p in pays], key=provider_private_key("OVO"))

    _fake_provider(monkeypatch, answer)
    tally = worker.run(adapter=G2PConnectAdapter("http://bank.invalid", callback_url=""),
                       config=worker.WorkerConfig(max_attempts=1), once=True)  # fmt: skip
    assert tally.paid == 0
    assert PaymentState.PAID not in _states()


def test_a_success_answer_for_another_amount_leaves_the_payment_open(issued, monkeypatch):
    pays = list(Payment.objects.all())

    def answer(req: urllib.request.Request) -> _Answer:
        return _signed_answer("BRI", [_status(p, amount="1") for p in pays])

    _fake_provider(monkeypatch, answer)
    tally = worker.run(adapter=G2PConnectAdapter("http://bank.invalid", callback_url=""),
                       config=worker.WorkerConfig(), once=True)  # fmt: skip
    assert tally.paid == 0
    assert _states() == {PaymentState.SENT}


# --- statements ----------------------------------------------------------------------------


def _csv(rows: list[tuple[str, int]]) -> bytes:
    lines = ["reference_id,amount,status,reason,executed_at"]
    lines += [f"{ref},{amount},succ,,2026-12-07T01:00:00Z" for ref, amount in rows]
    return ("\n".join(lines) + "\n").encode()


def _import(user: Any, data: bytes, provider: str = "") -> Any:
    return pay.statement_import(acting_user=user, provider=provider, file_name="s.json",
                                     data=data, adapter=G2PConnectAdapter("http://unused"))  # fmt: skip


def test_an_unsigned_statement_is_refused(admin_user, sent):
    with pytest.raises(ValidationFailed) as exc:
        _import(admin_user, _csv([(p.payment_key, p.amount) for p in sent]))
    assert exc.value.problems[0].code.startswith("signature_")


def test_a_statement_changed_after_signing_is_refused(admin_user, sent):
    envelope = json.loads(signatures.envelope_seal(
        provider_private_key("BRI"), provider="BRI", content=_csv([(sent[0].payment_key, 1)])))  # fmt: skip
    envelope["content"] = envelope["content"].replace(",1,", f",{sent[0].amount},")
    with pytest.raises(ValidationFailed) as exc:
        _import(admin_user, json.dumps(envelope).encode())
    assert exc.value.problems[0].code == "signature_bad_signature"


def test_one_providers_statement_cannot_report_another_providers_payments(admin_user, sent):
    sealed = signatures.envelope_seal(provider_private_key("POS"), provider="POS",
                                      content=_csv([(p.payment_key, p.amount) for p in sent]))  # fmt: skip
    with pytest.raises(ValidationFailed) as exc:
        _import(admin_user, sealed)
    assert {(p.field, p.code, p.row) for p in exc.value.problems} == {
        ("reference_id", "wrong_provider", n) for n in (2, 3, 4)
    }


def test_a_statement_fetched_from_the_simulator_is_signed_by_its_provider(admin_user, issued,
                                                                          provider_sim):  # fmt: skip
    sim = provider_sim()
    worker.run(adapter=G2PConnectAdapter(sim.url, timeout_s=5), config=worker.WorkerConfig(),
               once=True)  # fmt: skip
    day = next(sim.dir.glob("statement-*.csv")).name[len("statement-") : -len(".csv")]
    st = _import(admin_user, G2PConnectAdapter(sim.url).fetch_statement("BRI", day))
    assert (st.provider, st.lines) == ("BRI", 3)


def test_the_importer_of_a_statement_cannot_explain_its_differences(
    admin_user, bandung_operator, sent
):
    Payment.objects.update(state=PaymentState.PAID)
    cycle = sent[0].cycle
    sealed = signatures.envelope_seal(provider_private_key("BRI"), provider="BRI",
                                      content=_csv([(sent[0].payment_key, 1)]))  # fmt: skip
    _import(admin_user, sealed)
    pay.cycle_reconcile(acting_user=bandung_operator, cycle=cycle)
    d = Difference.objects.filter(cycle=cycle).first()
    assert d is not None
    with pytest.raises(PermissionDenied):
        pay.difference_explain(acting_user=admin_user, difference=d, explanation="sudah ok")
    d = pay.difference_explain(acting_user=bandung_operator, difference=d,
                                    explanation="dicek dengan bank: salah ketik di rekening koran")  # fmt: skip
    assert d.explained_by == bandung_operator


# --- the signature itself ------------------------------------------------------------------


def test_a_signature_does_not_survive_a_change_of_provider_name_timestamp_or_nonce():
    key = provider_private_key("BRI")
    body = b'{"message": {}}'
    h = signatures.sign(key, provider="BRI", body=body)
    good = signatures.from_headers(h)
    signatures.check(key.public_key(), good, body=body)
    for field, value in (("provider", "POS"), ("timestamp", str(int(good.timestamp) + 1)),
                         ("nonce", "A" * 24)):  # fmt: skip
        moved = signatures.Signed(**{**good.__dict__, field: value})
        with pytest.raises(signatures.BadSignature):
            signatures.check(key.public_key(), moved, body=body)


def test_a_public_key_is_read_as_pem_or_base64url_and_a_private_key_is_not_accepted_as_one():
    from cryptography.hazmat.primitives import serialization

    key = provider_private_key("BRI")
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    raw = signatures.public_text(key)
    assert signatures.load_public_key(pem).public_bytes_raw() == signatures.b64d(raw)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()  # fmt: skip
    with pytest.raises(ValueError, match=r"(?i)key"):
        signatures.load_public_key(private_pem)
