"""Verification methods per programme and channel: configurable, and enforced on the server."""

from __future__ import annotations

import pytest

from tepat.core.errors import NotFound, PermissionDenied, TepatError, ValidationFailed
from tepat.core.models import AuditEvent
from tepat.verification import selectors, services
from tepat.verification.models import Handover, HandoverStatus, VerificationPolicy
from tests.verification.conftest import handover
from tests.verification.test_otp import Gateway, code_of


def sync(agent, items):
    return services.handovers_sync(acting_user=agent, device_id="hp-1", items=items)


def test_without_a_policy_card_and_otp_are_accepted(vouchers, field_agent):
    items = selectors.day_list(user=field_agent)
    assert {tuple(i["methods"]) for i in items} == {("card", "otp")}


def test_the_default_is_a_setting(vouchers, field_agent, settings):
    settings.TEPAT_VERIFICATION_DEFAULT_METHODS = "face"
    assert {tuple(i["methods"]) for i in selectors.day_list(user=field_agent)} == {("face",)}


def test_a_supervisor_sets_the_methods_and_it_is_audited_with_before_and_after(
    vouchers, field_agent, allow
):
    allow("otp")
    allow("otp", "face", "otp")
    row = VerificationPolicy.objects.get()
    assert row.methods == ["otp", "face"]
    events = list(AuditEvent.objects.filter(action="verification_policy.set").order_by("id"))
    assert [e.detail["before"] for e in events] == [None, ["otp"]]
    assert events[1].detail["after"] == ["otp", "face"]
    assert {tuple(i["methods"]) for i in selectors.day_list(user=field_agent)} == {("otp", "face")}


def test_the_policy_of_one_channel_leaves_the_other_alone(vouchers, field_agent, allow):
    allow("face", channel="cash_pos")
    assert {tuple(i["methods"]) for i in selectors.day_list(user=field_agent)} == {("card", "otp")}


@pytest.mark.parametrize("role_user", ["bandung_operator", "field_agent", "auditor"])
def test_only_admins_and_supervisors_set_policies(vouchers, request, role_user):
    user = request.getfixturevalue(role_user)
    with pytest.raises(PermissionDenied):
        services.verification_policy_set(
            acting_user=user, programme_code="SEMBAKO-2026", channel="ewarung", methods=["card"]
        )


def test_a_policy_needs_known_methods_and_a_voucher_channel(vouchers, supervisor):
    with pytest.raises(ValidationFailed) as err:
        services.verification_policy_set(
            acting_user=supervisor, programme_code="SEMBAKO-2026", channel="bank",
            methods=["card", "fingerprint"],
        )  # fmt: skip
    assert {(p.field, p.code) for p in err.value.problems} == {
        ("channel", "unknown_code"),
        ("methods", "unknown_code"),
    }
    with pytest.raises(ValidationFailed) as err:
        services.verification_policy_set(
            acting_user=supervisor, programme_code="SEMBAKO-2026", channel="ewarung", methods=[]
        )
    assert err.value.problems[0].code == "required"
    with pytest.raises(NotFound):
        services.verification_policy_set(
            acting_user=supervisor, programme_code="NOPE", channel="ewarung", methods=["card"]
        )
    assert not VerificationPolicy.objects.exists()


def test_the_server_rejects_a_handover_by_a_method_the_programme_does_not_accept(
    vouchers, field_agent, allow
):
    allow("otp")
    res = sync(field_agent, [handover(vouchers[0], method="card")])
    assert list(res.rejected.values()) == ["method_not_allowed"]
    assert not Handover.objects.exists()
    assert AuditEvent.objects.filter(
        action="verification.failed", target_id=vouchers[0].public_id,
        detail__reason="method_not_allowed",
    ).exists()  # fmt: skip


def test_an_otp_handover_needs_a_code_that_really_passed(vouchers, field_agent):
    res = sync(field_agent, [handover(vouchers[0], method="otp")])
    assert list(res.rejected.values()) == ["otp_not_verified"]
    gw = Gateway()
    vid = vouchers[0].public_id
    services.otp_send(acting_user=field_agent, voucher_id=vid, gateway=gw)
    assert not services.otp_check(acting_user=field_agent, voucher_id=vid, code="000000x")
    assert list(sync(field_agent, [handover(vouchers[0], method="otp")]).rejected.values()) == [
        "otp_not_verified"
    ]
    assert services.otp_check(acting_user=field_agent, voucher_id=vid, code=code_of(gw))
    res = sync(field_agent, [handover(vouchers[0], method="otp")])
    assert len(res.accepted) == 1
    assert Handover.objects.get(status=HandoverStatus.ACCEPTED).method == "otp"


def test_a_code_passed_for_one_voucher_does_not_open_another(vouchers, field_agent):
    gw = Gateway()
    services.otp_send(acting_user=field_agent, voucher_id=vouchers[0].public_id, gateway=gw)
    services.otp_check(acting_user=field_agent, voucher_id=vouchers[0].public_id, code=code_of(gw))
    res = sync(field_agent, [handover(vouchers[1], method="otp")])
    assert list(res.rejected.values()) == ["otp_not_verified"]


def test_a_face_handover_needs_a_passed_face_check(vouchers, field_agent, allow):
    allow("face")
    res = sync(field_agent, [handover(vouchers[0], method="face")])
    assert list(res.rejected.values()) == ["face_not_verified"]


def test_no_code_is_sent_when_the_programme_does_not_accept_otp(vouchers, field_agent, allow):
    allow("card")
    gw = Gateway()
    with pytest.raises(TepatError) as err:
        services.otp_send(acting_user=field_agent, voucher_id=vouchers[0].public_id, gateway=gw)
    assert err.value.code == "method_not_allowed"
    assert gw.sent == []


def test_the_day_list_api_carries_the_methods(vouchers, field_agent, staff_client, allow):
    allow("otp", "card")
    items = staff_client(field_agent).get("/api/verification/day").json()["items"]
    assert {tuple(i["methods"]) for i in items} == {("card", "otp")}


def test_policies_through_the_api(vouchers, supervisor, field_agent, staff_client):
    c = staff_client(supervisor)
    rows = c.get("/api/verification/policies").json()
    sembako = {r["channel"]: r for r in rows if r["programme"] == "SEMBAKO-2026"}
    assert sembako["ewarung"]["configured"] is False
    assert sembako["ewarung"]["methods"] == ["card", "otp"]
    r = c.put(
        "/api/verification/policies/SEMBAKO-2026/ewarung",
        {"methods": ["face", "otp"]},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["methods"] == ["otp", "face"]
    assert r.json()["configured"] is True
    bad = c.put(
        "/api/verification/policies/SEMBAKO-2026/ewarung",
        {"methods": ["iris"]},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert bad.json()["problems"][0]["field"] == "methods"
    agent = staff_client(field_agent).put(
        "/api/verification/policies/SEMBAKO-2026/ewarung",
        {"methods": ["card"]},
        content_type="application/json",
    )
    assert agent.status_code == 403


def test_the_policy_page_lists_programmes_and_saves(vouchers, supervisor, staff_client):
    c = staff_client(supervisor)
    page = c.get("/verifikasi/kebijakan/")
    assert page.status_code == 200
    assert b"SEMBAKO-2026" in page.content
    r = c.post(
        "/verifikasi/kebijakan/simpan/",
        {"programme": "SEMBAKO-2026", "channel": "ewarung", "methods": ["card", "face"]},
    )
    assert r.status_code == 302
    assert VerificationPolicy.objects.get(channel="ewarung").methods == ["card", "face"]


def test_the_policy_page_says_why_a_save_was_refused(vouchers, bandung_operator, staff_client):
    c = staff_client(bandung_operator)
    r = c.post(
        "/verifikasi/kebijakan/simpan/",
        {"programme": "SEMBAKO-2026", "channel": "ewarung", "methods": ["card"]},
        follow=True,
    )
    assert "tidak boleh" in r.content.decode()
    assert not VerificationPolicy.objects.exists()
