from __future__ import annotations

import datetime as dt
import uuid

from tepat.verification import services, signing


def test_the_public_key_is_open_to_devices(client, db):
    r = client.get("/api/verification/key")
    assert r.status_code == 200
    assert r.json()["alg"] == "Ed25519"


def test_the_day_list_has_the_agents_vouchers_with_card_checks(vouchers, field_agent, staff_client):
    c = staff_client(field_agent)
    data = c.get("/api/verification/day").json()
    assert {i["id"] for i in data["items"]} == {v.public_id for v in vouchers}
    item = next(i for i in data["items"] if i["id"] == vouchers[0].public_id)
    kdf = services.DayListKdf(signing.b64d(data["kdf"]["salt"]), data["kdf"]["iterations"])
    assert item["card_check"] == services.card_check(vouchers[0].public_id, "1000000001", kdf=kdf)
    assert data["revoked"] == []


def test_a_revoked_voucher_leaves_the_list_and_enters_the_revocation_list(
    vouchers, field_agent, bandung_operator, staff_client
):
    services.voucher_revoke(
        acting_user=bandung_operator, voucher_id=vouchers[0].public_id, reason="x"
    )
    data = staff_client(field_agent).get("/api/verification/day").json()
    assert vouchers[0].public_id not in {i["id"] for i in data["items"]}
    assert data["revoked"] == [vouchers[0].public_id]


def test_an_agent_of_another_village_gets_an_empty_list(vouchers, regions, staff_client):
    from tests.conftest import make_staff

    agent = make_staff("agen_bogor", "field_agent", ("3201011001",))
    assert staff_client(agent).get("/api/verification/day").json()["items"] == []


def test_sync_through_the_api_is_idempotent_and_reports_failures(
    vouchers, field_agent, staff_client
):
    from tepat.core.models import AuditEvent

    c = staff_client(field_agent)
    body = {
        "device_id": "hp-1",
        "handovers": [
            {
                "client_id": str(uuid.uuid4()),
                "token": vouchers[0].token,
                "method": "card",
                "device_time": dt.datetime.now(dt.UTC).isoformat(),
            }
        ],
        "failures": [
            {"voucher_id": vouchers[1].public_id, "method": "card", "reason": "kartu tidak cocok"}
        ],
    }
    first = c.post("/api/verification/sync", body, content_type="application/json").json()
    again = c.post("/api/verification/sync", body, content_type="application/json").json()
    assert len(first["accepted"]) == 1
    assert len(again["already"]) == 1
    assert AuditEvent.objects.filter(
        action="verification.failed", target_id=vouchers[1].public_id
    ).exists()


def test_the_field_app_and_its_service_worker_are_served(field_agent, staff_client):
    c = staff_client(field_agent)
    assert b"field.js" in c.get("/lapangan/").content
    sw = c.get("/lapangan/sw.js")
    assert sw["Service-Worker-Allowed"] == "/lapangan/"
    assert c.get("/lapangan/manifest.webmanifest").json()["scope"] == "/lapangan/"
