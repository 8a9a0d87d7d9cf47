"""The verification staff pages show a control only to the roles that may use it (resolving a
double redemption and registering proxies: issuers; enrolling a face: issuers and field agents;
the policy: supervisors and admins); a post from any other role is the 403 page with the reason."""

from __future__ import annotations

from typing import Any

import pytest

from tepat.verification import services
from tepat.verification.models import Handover, HandoverStatus, ProxyCollector, VerificationPolicy

from .conftest import handover

pytestmark = pytest.mark.django_db


@pytest.fixture
def double(vouchers: Any, field_agent: Any) -> Handover:
    for device in ("hp-1", "hp-2"):
        services.handovers_sync(
            acting_user=field_agent, device_id=device, items=[handover(vouchers[0])]
        )
    return Handover.objects.get(status=HandoverStatus.DUPLICATE)


def _client(request: pytest.FixtureRequest, staff_client: Any, role: str) -> Any:
    return staff_client(request.getfixturevalue(role))


@pytest.mark.parametrize("role", ["auditor", "field_agent"])
def test_read_only_roles_see_no_control_and_a_post_anyway_is_the_403_page(
    request: pytest.FixtureRequest, staff_client: Any, double: Handover, vouchers: Any, role: str
):
    client = _client(request, staff_client, role)
    flagged = client.get("/verifikasi/penukaran-ganda/").content.decode()
    assert double.voucher.public_id in flagged
    assert "/selesaikan/" not in flagged
    ref = vouchers[0].payment.beneficiary_ref
    person = client.get(f"/verifikasi/penerima/{ref}/").content.decode()
    assert "/kuasa/" not in person
    policies = client.get("/verifikasi/kebijakan/").content.decode()
    assert "/verifikasi/kebijakan/simpan/" not in policies
    assert 'id="read-only-note"' in policies

    resolve = client.post(
        f"/verifikasi/penukaran-ganda/{double.client_id}/selesaikan/",
        {"decision": "recovered", "note": "dikembalikan"},
    )
    assert resolve.status_code == 403
    assert "your role may not resolve investigations" in resolve.content.decode()
    proxy = client.post(
        f"/verifikasi/penerima/{ref}/kuasa/",
        {"name": "Siti", "id_number": "3273010101990002", "reason": "disabled"},
    )
    assert proxy.status_code == 403
    policy = client.post(
        "/verifikasi/kebijakan/simpan/",
        {"programme": "SEMBAKO-2026", "channel": "ewarung", "methods": ["card"]},
    )
    assert policy.status_code == 403
    double.refresh_from_db()
    assert double.decision == ""
    assert not ProxyCollector.objects.exists()
    assert not VerificationPolicy.objects.exists()
    # Faces: field agents enrol at the counter (the missing photo is the message, not a 403).
    face = client.post(f"/verifikasi/penerima/{ref}/wajah/", {})
    if role == "auditor":
        assert face.status_code == 403
        assert "your role may not enrol faces" in face.content.decode()
    else:
        assert face.status_code == 302


def test_an_operator_resolves_and_registers_and_a_supervisor_sets_the_policy(
    staff_client: Any, bandung_operator: Any, supervisor: Any, double: Handover, vouchers: Any
):
    client = staff_client(bandung_operator)
    assert "/selesaikan/" in client.get("/verifikasi/penukaran-ganda/").content.decode()
    ref = vouchers[0].payment.beneficiary_ref
    assert f"/verifikasi/penerima/{ref}/kuasa/" in (
        client.get(f"/verifikasi/penerima/{ref}/").content.decode()
    )
    assert "/verifikasi/kebijakan/simpan/" not in (
        client.get("/verifikasi/kebijakan/").content.decode()
    )
    policies = staff_client(supervisor).get("/verifikasi/kebijakan/").content.decode()
    assert "/verifikasi/kebijakan/simpan/" in policies
