"""The field app as an agent first meets it (issue 20, item 5): it reopens offline after the very
first online visit (the service worker caches the app shell when it installs), a beneficiary
without a KKS card is told so as soon as the voucher is read, with the policy's other methods
offered, and the page has a <main> landmark and a visible sign-out."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone

from tepat.registry.models import FinancialAddress
from tests.browser.test_field_offline import device, first_voucher
from tests.browser.test_field_scan import qr_png
from tests.verification.conftest import *  # noqa: F403 - the verification cast

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="the live server answers on threads an in-memory SQLite test database cannot serve "
    "(run with TEPAT_DATABASE_URL=postgres://...)",
)


def test_the_first_visit_already_reopens_offline(
    browser, live_server, transactional_db, vouchers, field_agent, axe
):
    context, page = device(browser, live_server, field_agent)  # one online visit, no reload
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    assert page.locator("main h1").text_content() == "Penyaluran di lapangan"
    assert page.get_by_role("button", name="Keluar").is_visible()
    axe(page, label="field app, first visit")
    context.set_offline(True)
    page.reload()
    page.wait_for_function("document.getElementById('count').textContent === '3'")
    page.wait_for_selector("#net:has-text('luring')")
    assert page.locator("main h1").text_content() == "Penyaluran di lapangan"
    # The QR decoder was cached at install too: a voucher is scanned offline.
    v = first_voucher(vouchers)
    page.set_input_files("#scan-photo", files=[
        {"name": "voucher.png", "mimeType": "image/png", "buffer": qr_png(v.token)},
    ])  # fmt: skip
    page.wait_for_selector("#scan-status:has-text('Voucher dikenali')")
    context.close()


def test_a_beneficiary_without_a_card_is_offered_the_policys_other_methods(
    browser, live_server, transactional_db, vouchers, field_agent, allow, axe
):
    allow("card", "otp")
    v = vouchers[0]
    FinancialAddress.objects.filter(person__public_id=v.payment.beneficiary_ref).update(
        valid_to=timezone.now()
    )
    context, page = device(browser, live_server, field_agent)
    page.fill("#token", v.token)
    page.wait_for_selector("#card-note:has-text('tidak punya kartu KKS')")
    assert "Kode SMS" in page.text_content("#card-note")
    assert page.is_checked("#method-otp")  # the other method, chosen for the agent
    assert page.is_disabled("#method-card")  # nothing to check a card against
    assert page.is_visible("#otp-send")
    axe(page, label="field app, voucher without a card")
    context.close()
