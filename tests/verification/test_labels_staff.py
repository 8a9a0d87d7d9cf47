"""Verification staff pages in words and rupiah: the printed voucher's value, a flagged
handover's reason, the default verification methods."""

from __future__ import annotations

import re

import pytest

from tepat.verification import services
from tepat.verification.models import Handover, HandoverStatus
from tests.verification.conftest import handover

pytestmark = pytest.mark.django_db


def test_the_printed_voucher_shows_its_value_in_rupiah(vouchers, bandung_operator, staff_client):
    v = vouchers[0]
    html = staff_client(bandung_operator).get(f"/lapangan/voucher/{v.public_id}/").content.decode()
    shown = "Rp" + f"{v.payment.amount:,}".replace(",", ".")
    assert v.payment.amount >= 1000  # the cast's amounts need a thousands separator
    assert f"<dd>{shown}</dd>" in html
    assert f"Rp{v.payment.amount}<" not in html


def test_a_flagged_handover_gives_its_reason_in_words(
    vouchers, field_agent, bandung_operator, staff_client
):
    for device in ("hp-1", "hp-2"):
        services.handovers_sync(
            acting_user=field_agent, device_id=device, items=[handover(vouchers[0])]
        )
    assert Handover.objects.get(status=HandoverStatus.DUPLICATE).reason == "double_redemption"
    html = staff_client(bandung_operator).get(_flagged_url()).content.decode()
    assert "(penukaran ganda)" in html
    assert "double_redemption" not in html


def test_the_policy_page_names_the_default_methods(supervisor, staff_client, settings, regions):
    settings.TEPAT_VERIFICATION_DEFAULT_METHODS = "card,otp"
    html = staff_client(supervisor).get(_policies_url()).content.decode()
    default = re.search(r"Bawaan bila belum diatur: (.*?)\.</p>", html)
    assert default
    assert default.group(1) == "Voucher + nomor kartu KKS, Kode sekali pakai ke nomor terdaftar"


def _flagged_url() -> str:
    from django.urls import reverse

    return reverse("verification_staff:flagged")


def _policies_url() -> str:
    from django.urls import reverse

    return reverse("verification_staff:policies")
