"""Issue 17: the offline day's list and the voucher QR give a thief less.

- The list reaches only field agents assigned to the place: an agent of another village, a
  field agent assigned to a whole regency, and staff who are not field agents get 403.
- Card and proxy ID numbers travel as PBKDF2-SHA256 digests under a salt drawn per download
  (no fast SHA-256 of "voucher:number" any more), which the device recomputes.
- The voucher QR carries no ledger pseudonym, no amount and the district only, and a handover
  made with it still reaches the log (with a per-payment pseudonym).
"""

from __future__ import annotations

import hashlib
import json

import pytest

from tepat.core.models import AuditEvent
from tepat.ledger.models import PendingEntry
from tepat.verification import selectors, services, signing
from tests.conftest import make_staff
from tests.verification.conftest import handover

SUKARASA = "3273011001"
CARD = "1000000001"  # the bank (KKS) account of the cast's household 1
PROXY_NIK = "3273010101500001"


def _kdf(data: dict) -> services.DayListKdf:
    return services.DayListKdf(signing.b64d(data["kdf"]["salt"]), data["kdf"]["iterations"])


def test_an_agent_of_another_village_gets_403_for_that_village(vouchers, regions, staff_client):
    agent = make_staff("agen_bogor", "field_agent", ("3201011001",))
    r = staff_client(agent).get("/api/verification/day", {"village": SUKARASA})
    assert r.status_code == 403
    assert not AuditEvent.objects.filter(action="verification.day_list").exists()


def test_the_assigned_agent_gets_the_list_of_that_village(vouchers, field_agent, staff_client):
    r = staff_client(field_agent).get("/api/verification/day", {"village": SUKARASA})
    assert r.status_code == 200
    assert {i["id"] for i in r.json()["items"]} == {v.public_id for v in vouchers}


@pytest.mark.parametrize(
    ("role", "scopes"),
    [
        ("operator", ("3273",)),  # staff of the regency, but no field agent
        ("supervisor", ("32",)),
        ("field_agent", ("3273",)),  # a whole regency is no place to hand over in
        ("field_agent", ()),
    ],
)
def test_no_one_else_gets_a_day_list(vouchers, regions, staff_client, role, scopes):
    user = make_staff(f"u_{role}_{len(scopes)}", role, scopes)
    assert staff_client(user).get("/api/verification/day").status_code == 403


def test_a_district_agent_gets_its_villages(vouchers, regions, staff_client):
    agent = make_staff("agen_kecamatan", "field_agent", ("327301",))
    items = staff_client(agent).get("/api/verification/day").json()["items"]
    assert len(items) == len(vouchers)


def test_card_numbers_travel_only_as_slow_salted_digests(vouchers, field_agent, staff_client):
    c = staff_client(field_agent)
    first, second = (c.get("/api/verification/day").json() for _ in range(2))
    kdf = first["kdf"]
    assert kdf["alg"] == "PBKDF2-SHA256"
    assert kdf["iterations"] >= 100_000
    assert len(signing.b64d(kdf["salt"])) == 16
    assert first["kdf"]["salt"] != second["kdf"]["salt"]  # a new salt per download
    v = vouchers[0]
    item = next(i for i in first["items"] if i["id"] == v.public_id)
    again = next(i for i in second["items"] if i["id"] == v.public_id)
    assert item["card_check"] != again["card_check"]
    # The digest is PBKDF2-HMAC-SHA256 (computed here without the service's own code) ...
    want = hashlib.pbkdf2_hmac(
        "sha256", f"{v.public_id}:{CARD}".encode(), signing.b64d(kdf["salt"]), kdf["iterations"], 16
    ).hex()
    assert item["card_check"] == want
    # ... and no longer the SHA-256 a stolen list gave away in a fraction of a second.
    fast = hashlib.sha256(f"{v.public_id}:{CARD}".encode()).hexdigest()
    assert fast not in json.dumps(first)
    assert CARD not in json.dumps(first)


def test_a_proxy_nik_travels_only_as_a_slow_salted_digest(
    vouchers, bandung_operator, field_agent, staff_client
):
    v = vouchers[0]
    services.proxy_register(
        acting_user=bandung_operator, person_ref=v.payment.beneficiary_ref, name="Ujang (anak)",
        id_number=PROXY_NIK, reason="elderly",
    )  # fmt: skip
    data = staff_client(field_agent).get("/api/verification/day").json()
    item = next(i for i in data["items"] if i["id"] == v.public_id)
    (proxy,) = item["proxies"]
    assert proxy["check"] == services.card_check(v.public_id, PROXY_NIK, kdf=_kdf(data))
    assert proxy["check"] != hashlib.sha256(f"{v.public_id}:{PROXY_NIK}".encode()).hexdigest()
    assert PROXY_NIK not in json.dumps(data)
    # A guess costs the list's rounds: the wrong NIK gives another digest.
    assert services.card_check(v.public_id, PROXY_NIK[:-1] + "2", kdf=_kdf(data)) != proxy["check"]


def test_many_checks_are_derived_in_parallel_with_the_same_result(vouchers):
    kdf = services.DayListKdf(b"\x01" * 16, 1000)
    pairs = [(f"v{i}", f"{1000000000 + i}") for i in range(20)]
    assert services.card_checks(pairs, kdf=kdf) == [
        services.card_check(v, n, kdf=kdf) for v, n in pairs
    ]


def test_the_rounds_are_a_setting_with_a_floor(settings):
    settings.TEPAT_DAY_LIST_KDF_ITERATIONS = 200_000
    assert services.day_list_kdf().iterations == 200_000
    settings.TEPAT_DAY_LIST_KDF_ITERATIONS = 10
    with pytest.raises(ValueError, match="at least 1000"):
        services.day_list_kdf()


def test_the_selector_refuses_a_village_outside_the_assignment(vouchers, field_agent):
    from tepat.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        selectors.day_list(user=field_agent, village="3201011001")
    with pytest.raises(PermissionDenied):
        selectors.day_list(user=field_agent, village="3273")  # not a village code


def test_the_voucher_qr_carries_no_pseudonym_no_amount_and_the_district_only(vouchers):
    for v in vouchers:
        payload = signing.verify(v.token)
        assert set(payload) == {"v", "id", "p", "c", "ch", "r", "f", "u", "k"}
        assert payload["v"] == 2
        assert payload["r"] == SUKARASA[:6]


def test_a_handover_with_the_new_voucher_reaches_the_log_with_a_per_payment_pseudonym(
    vouchers, field_agent
):
    from tepat.ledger.entries import payment_pseudonym, pseudonymise

    v = vouchers[0]
    res = services.handovers_sync(acting_user=field_agent, device_id="hp", items=[handover(v)])
    assert res.accepted
    body = json.loads(PendingEntry.objects.get(kind="handover.recorded").body)
    p = v.payment
    assert body["v"] == 2
    assert body["beneficiary"] == payment_pseudonym(
        salt=p.ledger_salt, payment=p.public_id, beneficiary=p.beneficiary_ref, amount=p.amount
    )
    assert body["beneficiary"] != pseudonymise(p.beneficiary_ref)
    assert "region" not in body
    assert body["amount"] == p.amount  # sembako: the programme's base amount, the same for all


def test_a_version_one_voucher_already_printed_is_still_accepted(vouchers, field_agent):
    """Vouchers printed before the change carry the old payload; they stay valid until they
    expire (the server reads only id and validity from any version)."""
    v = vouchers[1]
    old = signing.verify(v.token) | {"v": 1, "b": "0" * 32, "a": v.payment.amount,
                                      "r": v.village_code}  # fmt: skip
    item = handover(v)
    item = services.HandoverIn(item.client_id, signing.sign(old), "card", item.device_time)
    assert services.handovers_sync(acting_user=field_agent, device_id="hp", items=[item]).accepted
