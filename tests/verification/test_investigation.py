"""Flagged handovers (double redemptions, revoked vouchers) are listed for investigation in the
staff member's regions and closed once with a decision and a note, audited."""

from __future__ import annotations

import pytest

from tepat.core.errors import NotFound, PermissionDenied, TepatError, ValidationFailed
from tepat.core.models import AuditEvent
from tepat.verification import selectors, services
from tepat.verification.models import Handover, HandoverStatus
from tests.verification.conftest import handover


@pytest.fixture
def double(vouchers, field_agent):
    services.handovers_sync(
        acting_user=field_agent, device_id="hp-1", items=[handover(vouchers[0])]
    )
    services.handovers_sync(
        acting_user=field_agent, device_id="hp-2", items=[handover(vouchers[0])]
    )
    return Handover.objects.get(status=HandoverStatus.DUPLICATE)


def test_a_double_redemption_is_listed_for_its_region_only(
    double, bandung_operator, bogor_operator
):
    assert list(selectors.flagged_handovers(user=bandung_operator)) == [double]
    assert list(selectors.flagged_handovers(user=bogor_operator)) == []


def test_resolving_records_the_decision_and_audits_it(double, bandung_operator):
    services.handover_resolve(
        acting_user=bandung_operator, client_id=str(double.client_id), decision="recovered",
        note="Beras dikembalikan oleh penerima ke e-Warung",
    )  # fmt: skip
    double.refresh_from_db()
    assert double.decision == "recovered"
    assert double.decided_by == bandung_operator
    assert list(selectors.flagged_handovers(user=bandung_operator)) == []
    assert list(selectors.flagged_handovers(user=bandung_operator, include_resolved=True)) == [
        double
    ]
    event = AuditEvent.objects.get(action="handover.resolve")
    assert event.target_id == str(double.client_id)
    assert event.detail["after"] == "recovered"
    assert event.region_code == double.voucher.village_code


def test_a_decision_needs_a_known_value_and_a_note(double, bandung_operator):
    with pytest.raises(ValidationFailed) as err:
        services.handover_resolve(
            acting_user=bandung_operator, client_id=str(double.client_id), decision="ignore",
            note="  ",
        )  # fmt: skip
    assert {p.field for p in err.value.problems} == {"decision", "note"}
    double.refresh_from_db()
    assert double.decided_at is None


def test_an_investigation_is_resolved_once(double, bandung_operator, supervisor):
    cid = str(double.client_id)
    services.handover_resolve(acting_user=bandung_operator, client_id=cid, decision="no_loss",
                              note="Pindai ulang di perangkat kedua")  # fmt: skip
    with pytest.raises(TepatError) as err:
        services.handover_resolve(acting_user=supervisor, client_id=cid, decision="escalated",
                                  note="x")  # fmt: skip
    assert err.value.code == "already_resolved"
    double.refresh_from_db()
    assert double.decision == "no_loss"


def test_staff_of_another_region_cannot_resolve(double, bogor_operator):
    with pytest.raises(NotFound):
        services.handover_resolve(acting_user=bogor_operator, client_id=str(double.client_id),
                                  decision="no_loss", note="x")  # fmt: skip


def test_field_agents_and_auditors_cannot_resolve(double, field_agent, auditor):
    for user in (field_agent, auditor):
        with pytest.raises(PermissionDenied):
            services.handover_resolve(acting_user=user, client_id=str(double.client_id),
                                      decision="no_loss", note="x")  # fmt: skip


def test_an_accepted_handover_is_not_an_investigation(double, bandung_operator):
    accepted = Handover.objects.get(status=HandoverStatus.ACCEPTED)
    with pytest.raises(NotFound):
        services.handover_resolve(acting_user=bandung_operator, client_id=str(accepted.client_id),
                                  decision="no_loss", note="x")  # fmt: skip


def test_the_page_lists_the_double_redemption_beside_the_first_handover(
    double, bandung_operator, bogor_operator, staff_client
):
    page = staff_client(bandung_operator).get("/verifikasi/penukaran-ganda/").content.decode()
    assert double.voucher.public_id in page
    assert "hp-2" in page
    assert "hp-1" in page
    assert str(double.client_id) in page
    other = staff_client(bogor_operator).get("/verifikasi/penukaran-ganda/").content.decode()
    assert double.voucher.public_id not in other


def test_the_page_resolves_and_shows_the_decision(double, bandung_operator, staff_client):
    c = staff_client(bandung_operator)
    url = f"/verifikasi/penukaran-ganda/{double.client_id}/selesaikan/"
    refused = c.post(url, {"decision": "escalated", "note": ""}, follow=True).content.decode()
    assert "Catatan wajib diisi" in refused
    r = c.post(url, {"decision": "escalated", "note": "Diteruskan ke Inspektorat Kota"})
    assert r.status_code == 302
    double.refresh_from_db()
    assert double.decision == "escalated"
    shown = c.get("/verifikasi/penukaran-ganda/?semua=1").content.decode()
    assert "Diteruskan ke Inspektorat Kota" in shown


def test_the_page_hides_other_regions_rows_from_a_resolve_attempt(
    double, bogor_operator, staff_client
):
    r = staff_client(bogor_operator).post(
        f"/verifikasi/penukaran-ganda/{double.client_id}/selesaikan/",
        {"decision": "no_loss", "note": "x"},
    )
    assert r.status_code == 404


def test_flagged_handovers_through_the_api(double, bandung_operator, staff_client):
    c = staff_client(bandung_operator)
    rows = c.get("/api/verification/flagged").json()
    assert [(r["voucher"], r["status"], r["device_id"]) for r in rows] == [
        (double.voucher.public_id, "duplicate", "hp-2")
    ]
    r = c.post(
        f"/api/verification/flagged/{double.client_id}/resolve",
        {"decision": "no_loss", "note": "Salah pindai"},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["decision"] == "no_loss"
    assert c.get("/api/verification/flagged").json() == []
    assert len(c.get("/api/verification/flagged?include_resolved=true").json()) == 1
