from __future__ import annotations

import pytest
from django.core.management import call_command

from tepat.core.errors import PermissionDenied
from tepat.ledger.entries import pseudonymise
from tepat.verification import services, signing
from tepat.verification.models import Voucher


def test_each_ewarung_payment_gets_one_signed_voucher(vouchers):
    assert len(vouchers) == 3
    for v in vouchers:
        payload = signing.verify(v.token)
        assert payload["id"] == v.public_id
        assert payload["ch"] == "ewarung"
        assert payload["p"] == "SEMBAKO-2026"
        assert payload["r"] == v.payment.village_code[:6]  # the district, not the village
        assert {"b", "a"}.isdisjoint(payload)  # no ledger pseudonym, no amount (issue 17)
        assert pseudonymise(v.payment.beneficiary_ref) not in v.token
        assert v.payment.beneficiary_ref not in v.token


def test_issuing_again_adds_nothing(voucher_cycle, bandung_operator):
    assert services.vouchers_issue(acting_user=bandung_operator, cycle=voucher_cycle) == 0
    assert Voucher.objects.count() == 3


def test_a_field_agent_may_not_issue_vouchers(voucher_cycle, field_agent):
    with pytest.raises(PermissionDenied):
        services.vouchers_issue(acting_user=field_agent, cycle=voucher_cycle)


def test_a_tampered_validity_fails_the_signature_check(vouchers):
    body, sig = vouchers[0].token.split(".")
    payload = signing.b64d(body).replace(b'"u":', b'"u":9')
    with pytest.raises(signing.InvalidVoucher) as err:
        signing.verify(f"{signing.b64e(payload)}.{sig}")
    assert err.value.code == "bad_signature"


def test_garbage_is_a_malformed_voucher():
    with pytest.raises(signing.InvalidVoucher) as err:
        signing.verify("not a voucher")
    assert err.value.code == "malformed"


def test_the_public_key_alone_verifies_a_voucher(vouchers):
    raw = signing.public_key_raw()
    assert signing.verify(vouchers[1].token, raw)["id"] == vouchers[1].public_id


def test_revoking_needs_a_reason_and_is_audited(vouchers, bandung_operator):
    from tepat.core.errors import ValidationFailed
    from tepat.core.models import AuditEvent

    with pytest.raises(ValidationFailed):
        services.voucher_revoke(
            acting_user=bandung_operator, voucher_id=vouchers[0].public_id, reason=" "
        )
    v = services.voucher_revoke(
        acting_user=bandung_operator, voucher_id=vouchers[0].public_id, reason="kartu hilang"
    )
    assert v.revoked_at is not None
    assert AuditEvent.objects.filter(action="voucher.revoke", target_id=v.public_id).exists()


def test_the_vouchers_command_issues_and_revokes(regions, voucher_cycle, bandung_operator, capsys):
    call_command("vouchers", "issue", "--cycle", voucher_cycle.public_id, "--user", "op_bandung")
    assert "0 voucher" in capsys.readouterr().out
    vid = Voucher.objects.first().public_id
    call_command("vouchers", "revoke", vid, "--reason", "ganda", "--user", "op_bandung")
    assert Voucher.objects.get(public_id=vid).revoked_at is not None


def test_the_printable_voucher_shows_a_qr_code(vouchers, bandung_operator, staff_client):
    c = staff_client(bandung_operator)
    r = c.get(f"/lapangan/voucher/{vouchers[0].public_id}/")
    assert r.status_code == 200
    assert b"<svg" in r.content
    assert vouchers[0].public_id.encode() in r.content


def test_a_voucher_outside_the_staff_region_is_not_printable(
    vouchers, bogor_operator, staff_client
):
    c = staff_client(bogor_operator)
    assert c.get(f"/lapangan/voucher/{vouchers[0].public_id}/").status_code == 404
