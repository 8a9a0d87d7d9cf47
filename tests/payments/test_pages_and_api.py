from __future__ import annotations

import pytest

from tepat.messaging.simulator import SimulatedSmsGateway
from tepat.payments import services, worker
from tepat.payments.models import Payment, PaymentState, SmsMessage
from tepat.payments.providers import G2PConnectAdapter

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(approved_cycle, bandung_operator):
    services.payments_issue(acting_user=bandung_operator, cycle=approved_cycle)
    return approved_cycle


def test_issuing_through_the_api_is_idempotent(staff_client, bandung_operator, approved_cycle):
    c = staff_client(bandung_operator)
    assert c.post(f"/api/payments/cycles/{approved_cycle.public_id}/issue").json() == {"issued": 3}
    assert c.post(f"/api/payments/cycles/{approved_cycle.public_id}/issue").json() == {"issued": 0}


def test_issuing_above_the_control_totals_is_rejected_whole(
    staff_client, bandung_operator, approved_cycle
):
    approved_cycle.control_count = 2
    approved_cycle.save()
    r = staff_client(bandung_operator).post(
        f"/api/payments/cycles/{approved_cycle.public_id}/issue"
    )
    assert r.status_code == 422
    assert r.json()["problems"][0]["code"] == "exceeds_control_totals"
    assert Payment.objects.count() == 0


def test_the_progress_partial_counts_payments_per_channel_and_state(
    staff_client, bandung_operator, issued
):
    r = staff_client(bandung_operator).get(f"/penyaluran/tahap/{issued.public_id}/kemajuan/")
    assert r.status_code == 200
    assert "0 / 3" in r.content.decode()
    api = (
        staff_client(bandung_operator)
        .get(f"/api/payments/cycles/{issued.public_id}/progress")
        .json()
    )
    assert api["by_channel"]["bank"]["issued"] == 3


def test_dead_letters_are_listed_and_resolved_through_the_page(
    staff_client, bandung_operator, issued, provider_sim, settings
):
    # Resolving asks the provider first (the default adapter): it never received this one.
    settings.TEPAT_PROVIDER_URL = provider_sim().url
    p = Payment.objects.order_by("id").first()
    Payment.objects.filter(pk=p.pk).update(
        state=PaymentState.DEAD, attempts=6, last_error="HTTP 503"
    )
    c = staff_client(bandung_operator)
    assert p.public_id in c.get("/penyaluran/gagal/").content.decode()
    c.post(
        f"/penyaluran/bayar/{p.public_id}/selesaikan/",
        {"action": "retry", "reason": "penyalur pulih"},
    )
    p.refresh_from_db()
    assert p.state == PaymentState.ISSUED
    assert "penyalur pulih" in p.resolution


def test_dead_letters_through_the_api_are_scoped_to_the_callers_region(
    staff_client, bogor_operator, issued
):
    Payment.objects.update(state=PaymentState.DEAD)
    assert staff_client(bogor_operator).get("/api/payments/dead-letters").json() == []


def test_the_reconciliation_page_imports_a_statement(
    staff_client, admin_user, issued, provider_sim
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    sim = provider_sim()
    worker.run(adapter=G2PConnectAdapter(sim.url), config=worker.WorkerConfig(), once=True)
    day = next(sim.dir.glob("statement-*.csv")).name[len("statement-") : -len(".csv")]
    data = G2PConnectAdapter(sim.url).fetch_statement("BRI", day)  # the provider's signed file
    c = staff_client(admin_user)  # statements span every region: a national role imports them
    r = c.post(f"/penyaluran/tahap/{issued.public_id}/rekonsiliasi/import/",
               {"statement": SimpleUploadedFile("s.json", data)}, follow=True)  # fmt: skip
    assert "3 cocok" in r.content.decode()


def test_every_payment_outcome_queues_one_sms_and_the_simulator_delivers_it_once(
    issued, provider_sim, tmp_path
):
    sim = provider_sim()
    worker.run(adapter=G2PConnectAdapter(sim.url), config=worker.WorkerConfig(), once=True)
    assert SmsMessage.objects.filter(state="pending").count() == 3
    gateway = SimulatedSmsGateway(tmp_path / "sms.jsonl")
    assert services.sms_deliver(gateway=gateway) == 3
    assert services.sms_deliver(gateway=gateway) == 0
    lines = (tmp_path / "sms.jsonl").read_text().splitlines()
    assert len(lines) == 3
    assert "Rp1.125.000" in lines[0]
    assert '"to": "081234567890"' in lines[0]  # the head's registered phone, decrypted to send
