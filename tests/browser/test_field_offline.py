"""The field PWA with the network cut: offline redemption, sync on reconnection, and the same
voucher redeemed on two devices offline (the second is rejected at sync and flagged)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tepat.verification.models import Handover, HandoverStatus
from tests.conftest import signed_in
from tests.verification.conftest import *  # noqa: F403 - the verification cast

# Several devices sync at once here; Django's live server answers them on parallel threads, which
# an in-memory SQLite test database cannot serve ("DatabaseWrapper objects created in a thread can
# only be used in that same thread"). CI runs these journeys on PostgreSQL.
pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="concurrent device syncs need a database the live server's threads can share "
    "(run with TEPAT_DATABASE_URL=postgres://...)",
)

CARD = "1000000001"  # the bank (KKS) account of the cast's household 1


def device(browser: Any, live_server: Any, user: Any, axe: Any = None) -> Any:
    """A new browser context (one phone) signed in as `user`, past the TOTP step; with `axe`,
    the field app is checked once its list is downloaded."""
    c = signed_in(Client(), user)
    # bypass_csp: wait_for_function evaluates its predicate with eval, which the page's
    # Content-Security-Policy refuses; test_content_security_policy.py loads the field page
    # under the policy.
    context = browser.new_context(base_url=live_server.url, locale="id-ID", bypass_csp=True)
    context.set_default_timeout(10_000)
    context.add_cookies([{"name": "sessionid", "value": c.cookies["sessionid"].value,
                          "url": live_server.url}])  # fmt: skip
    page = context.new_page()
    page.goto("/lapangan/")
    page.click("#download")
    page.wait_for_selector("#result:has-text('Daftar diunduh')")
    if axe is not None:
        axe(page, label="field app, list downloaded")
    return context, page


def redeem(page: Any, token: str, card: str = CARD) -> str:
    page.evaluate("document.getElementById('result').textContent=''")
    page.fill("#token", token)
    page.fill("#card", card)
    page.click("#verify")
    page.wait_for_function("document.getElementById('result').textContent.length > 0")
    return str(page.text_content("#result"))


def first_voucher(vouchers: list[Any]) -> Any:
    from tepat.verification.selectors import _cards

    for v in vouchers:
        if _cards([v.payment.beneficiary_ref]).get(v.payment.beneficiary_ref) == CARD:
            return v
    pytest.fail("no voucher for the cast's first card")


def test_an_agent_redeems_offline_and_the_handover_syncs_on_reconnection(
    browser, live_server, transactional_db, vouchers, field_agent, axe
):
    v = first_voucher(vouchers)
    context, page = device(browser, live_server, field_agent, axe)
    context.set_offline(True)
    assert "Nomor kartu KKS tidak cocok" in redeem(page, v.token, card="9999")
    axe(page, label="field app, wrong card refused")
    assert "Diserahkan" in redeem(page, v.token)
    axe(page, label="field app, handed over offline")
    assert page.text_content("#queued") == "1"
    assert Handover.objects.count() == 0  # nothing reached the server while offline
    context.set_offline(False)
    page.click("#sync")
    page.wait_for_selector("#syncresult:has-text('1 diterima')")
    axe(page, label="field app, synced")
    assert page.text_content("#queued") == "0"
    assert Handover.objects.get().status == HandoverStatus.ACCEPTED
    context.close()


def test_a_forged_voucher_is_refused_offline(
    browser, live_server, transactional_db, vouchers, field_agent, axe
):
    v = first_voucher(vouchers)
    context, page = device(browser, live_server, field_agent)
    context.set_offline(True)
    forged = v.token[:-6] + ("A" * 6 if not v.token.endswith("AAAAAA") else "B" * 6)
    assert "Tanda tangan voucher tidak sah" in redeem(page, forged)
    axe(page, label="field app, forged voucher refused")
    context.close()


def test_two_devices_redeem_the_same_voucher_offline_and_the_second_is_flagged(
    browser, live_server, transactional_db, vouchers, field_agent, axe
):
    v = first_voucher(vouchers)
    ctx1, phone1 = device(browser, live_server, field_agent)
    ctx2, phone2 = device(browser, live_server, field_agent)
    ctx1.set_offline(True)
    ctx2.set_offline(True)
    assert "Diserahkan" in redeem(phone1, v.token)
    assert "Diserahkan" in redeem(phone2, v.token)
    ctx1.set_offline(False)
    phone1.click("#sync")
    phone1.wait_for_selector("#syncresult:has-text('1 diterima')")
    ctx2.set_offline(False)
    phone2.click("#sync")
    phone2.wait_for_selector("#syncresult:has-text('1 penukaran ganda')")
    axe(phone2, label="field app, duplicate flagged at sync")
    rows = list(Handover.objects.order_by("id"))
    assert [r.status for r in rows] == [HandoverStatus.ACCEPTED, HandoverStatus.DUPLICATE]
    assert rows[1].flagged
    ctx1.close()
    ctx2.close()


def test_the_field_app_reopens_offline_from_the_service_worker_cache(
    browser, live_server, transactional_db, vouchers, field_agent, axe
):
    context, page = device(browser, live_server, field_agent)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now controlled by the service worker, which caches what it serves
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.wait_for_function("document.getElementById('count').textContent === '3'")
    context.set_offline(True)
    page.reload()
    page.wait_for_function("document.getElementById('count').textContent === '3'")
    assert "Penyaluran di lapangan" in page.text_content("h1")
    axe(page, label="field app, reopened offline")
    context.close()


# --- issue 17: the day's list leaves the device at sign-out --------------------------------

STORED = """async (name) => {
  const names = (await indexedDB.databases()).map((d) => d.name);
  if (!names.includes(name)) return null;
  const db = await new Promise((ok, ko) => {
    const r = indexedDB.open(name);
    r.onsuccess = () => ok(r.result);
    r.onerror = () => ko(r.error);
  });
  const count = (store) => new Promise((ok) => {
    const r = db.transaction(store).objectStore(store).count();
    r.onsuccess = () => ok(r.result);
  });
  const meta = await new Promise((ok) => {
    const r = db.transaction("meta").objectStore("meta").getAllKeys();
    r.onsuccess = () => ok(r.result);
  });
  const out = { list: await count("list"), queue: await count("queue"), meta };
  db.close();
  return out;
}"""


def test_signing_out_wipes_the_days_list_from_the_device(
    browser, live_server, transactional_db, vouchers, field_agent, axe
):
    context, page = device(browser, live_server, field_agent)
    name = f"tepat-lapangan-{field_agent.username}"
    stored = page.evaluate(STORED, name)
    assert stored["list"] == 3
    assert {"kdf", "key", "revoked"} <= set(stored["meta"])
    page.click("#signout button")
    page.wait_for_url("**/accounts/masuk/**")
    axe(page, label="signed out of the field app")
    assert page.evaluate(STORED, name) is None  # the whole database is gone
    assert page.evaluate("caches.keys()") == []
    # And the server session ended too: the field app asks for a sign-in again.
    page.goto("/lapangan/")
    assert "/accounts/masuk/" in page.url
    context.close()


def test_handovers_not_yet_synced_survive_the_wipe_and_sync_later(
    browser, live_server, transactional_db, vouchers, field_agent, axe
):
    v = first_voucher(vouchers)
    context, page = device(browser, live_server, field_agent)
    name = f"tepat-lapangan-{field_agent.username}"
    context.set_offline(True)
    assert "Diserahkan" in redeem(page, v.token)
    page.evaluate("window.tepatField.wipe()")  # what the sign-out button does, offline
    stored = page.evaluate(STORED, name)
    assert stored["list"] == 0
    assert stored["queue"] == 1
    assert not {"kdf", "key", "revoked"} & set(stored["meta"])
    context.set_offline(False)
    page.evaluate("window.tepatField.sync()")
    page.wait_for_selector("#syncresult:has-text('1 diterima')")
    axe(page, label="field app, synced after the wipe")
    assert Handover.objects.get().status == HandoverStatus.ACCEPTED
    context.close()
