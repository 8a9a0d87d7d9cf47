from __future__ import annotations

import pytest

from tepat.core.errors import PermissionDenied, ValidationFailed
from tepat.verification import selectors, services
from tepat.verification.models import ProxyCollector
from tests.verification.conftest import handover


def by_proxy(v):
    item = handover(v)
    return services.HandoverIn(item.client_id, item.token, "card", item.device_time, by_proxy=True)


def register(operator, v, number="3273010101500001"):
    return services.proxy_register(
        acting_user=operator, person_ref=v.payment.beneficiary_ref, name="Ujang (anak)",
        id_number=number, reason="elderly",
    )  # fmt: skip


def test_a_registered_proxy_appears_in_the_day_list_as_a_hash(
    vouchers, bandung_operator, field_agent
):
    register(bandung_operator, vouchers[0])
    kdf = services.day_list_kdf()
    listed = selectors.day_list(user=field_agent, kdf=kdf)
    item = next(i for i in listed if i["id"] == vouchers[0].public_id)
    assert item["proxies"] == [
        {
            "name": "Ujang (anak)",
            "check": services.card_check(vouchers[0].public_id, "3273010101500001", kdf=kdf),
        }
    ]
    assert "3273010101500001" not in ProxyCollector.objects.get().id_number_enc


def test_a_handover_to_a_registered_proxy_is_accepted(vouchers, bandung_operator, field_agent):
    register(bandung_operator, vouchers[0])
    res = services.handovers_sync(
        acting_user=field_agent, device_id="hp", items=[by_proxy(vouchers[0])]
    )
    assert len(res.accepted) == 1


def test_a_handover_to_an_unregistered_proxy_is_rejected(vouchers, field_agent):
    res = services.handovers_sync(
        acting_user=field_agent, device_id="hp", items=[by_proxy(vouchers[0])]
    )
    assert list(res.rejected.values()) == ["no_registered_proxy"]


def test_a_proxy_needs_a_known_reason_and_an_id_number(vouchers, bandung_operator):
    with pytest.raises(ValidationFailed) as err:
        services.proxy_register(
            acting_user=bandung_operator, person_ref=vouchers[0].payment.beneficiary_ref,
            name="X", id_number="12", reason="busy",
        )  # fmt: skip
    assert {p.field for p in err.value.problems} == {"reason", "id_number"}


def test_a_field_agent_may_not_register_proxies(vouchers, field_agent):
    with pytest.raises(PermissionDenied):
        register(field_agent, vouchers[0])


def test_a_revoked_proxy_leaves_the_day_list_and_is_refused_at_sync(
    vouchers, bandung_operator, field_agent
):
    from tepat.core.models import AuditEvent

    proxy = register(bandung_operator, vouchers[0])
    services.proxy_revoke(
        acting_user=bandung_operator, proxy_id=proxy.public_id, reason="Pindah domisili"
    )
    item = next(i for i in selectors.day_list(user=field_agent) if i["id"] == vouchers[0].public_id)
    assert item["proxies"] == []
    res = services.handovers_sync(
        acting_user=field_agent, device_id="hp", items=[by_proxy(vouchers[0])]
    )
    assert list(res.rejected.values()) == ["no_registered_proxy"]
    event = AuditEvent.objects.get(action="proxy.revoke")
    assert event.detail == {"proxy": proxy.public_id, "reason": "Pindah domisili"}


def test_a_proxy_is_revoked_with_a_reason_by_staff_of_its_region(
    vouchers, bandung_operator, bogor_operator, field_agent
):
    from tepat.core.errors import NotFound

    proxy = register(bandung_operator, vouchers[0])
    with pytest.raises(ValidationFailed):
        services.proxy_revoke(acting_user=bandung_operator, proxy_id=proxy.public_id, reason=" ")
    with pytest.raises(NotFound):
        services.proxy_revoke(acting_user=bogor_operator, proxy_id=proxy.public_id, reason="x")
    with pytest.raises(PermissionDenied):
        services.proxy_revoke(acting_user=field_agent, proxy_id=proxy.public_id, reason="x")
    proxy.refresh_from_db()
    assert proxy.revoked_at is None


def test_staff_of_another_region_cannot_register_a_proxy(vouchers, bogor_operator):
    from tepat.core.errors import NotFound

    with pytest.raises(NotFound):
        register(bogor_operator, vouchers[0])


def test_the_person_page_registers_and_revokes_a_proxy(vouchers, bandung_operator, staff_client):
    c = staff_client(bandung_operator)
    ref = vouchers[0].payment.beneficiary_ref
    page = c.get(f"/verifikasi/penerima/{ref}/")
    assert page.status_code == 200
    r = c.post(f"/verifikasi/penerima/{ref}/kuasa/",
               {"name": "Siti (cucu)", "id_number": "3273010101990002", "reason": "disabled"})  # fmt: skip
    assert r.status_code == 302
    proxy = ProxyCollector.objects.get()
    assert proxy.name == "Siti (cucu)"
    assert proxy.village_code == vouchers[0].village_code
    shown = c.get(f"/verifikasi/penerima/{ref}/").content.decode()
    assert "Siti (cucu)" in shown
    assert "3273010101990002" not in shown
    assert "Siti (cucu)" in c.get("/verifikasi/penerima/").content.decode()
    c.post(f"/verifikasi/kuasa/{proxy.public_id}/cabut/", {"reason": "Permintaan keluarga"})
    proxy.refresh_from_db()
    assert proxy.revoke_reason == "Permintaan keluarga"


def test_the_person_page_shows_why_a_registration_was_refused(
    vouchers, bandung_operator, staff_client
):
    c = staff_client(bandung_operator)
    ref = vouchers[0].payment.beneficiary_ref
    r = c.post(f"/verifikasi/penerima/{ref}/kuasa/",
               {"name": "", "id_number": "1", "reason": "elderly"}, follow=True)  # fmt: skip
    text = r.content.decode()
    assert "Nama kuasa wajib diisi" in text
    assert "Nomor identitas kuasa tidak sah" in text
    assert not ProxyCollector.objects.exists()


def test_the_person_page_is_region_scoped(vouchers, bogor_operator, staff_client):
    c = staff_client(bogor_operator)
    ref = vouchers[0].payment.beneficiary_ref
    assert c.get(f"/verifikasi/penerima/{ref}/").status_code == 404
    r = c.post(f"/verifikasi/penerima/{ref}/kuasa/",
               {"name": "X", "id_number": "3273010101990002", "reason": "elderly"})  # fmt: skip
    assert r.status_code == 404


def test_proxies_through_the_api(vouchers, bandung_operator, bogor_operator, staff_client):
    c = staff_client(bandung_operator)
    ref = vouchers[0].payment.beneficiary_ref
    r = c.post("/api/verification/proxies", {"person_id": ref, "name": "Ujang",
               "id_number": "3273010101500001", "reason": "elderly"}, content_type="application/json")  # fmt: skip
    assert r.status_code == 201, r.content
    pid = r.json()["id"]
    assert [p["id"] for p in c.get(f"/api/verification/proxies?person_id={ref}").json()] == [pid]
    assert staff_client(bogor_operator).get("/api/verification/proxies").json() == []
    c = staff_client(bandung_operator)
    r = c.post(f"/api/verification/proxies/{pid}/revoke", {"reason": "Meninggal dunia"},
               content_type="application/json")  # fmt: skip
    assert r.status_code == 200
    assert r.json()["revoked_at"] is not None
    assert c.get("/api/verification/proxies").json() == []
