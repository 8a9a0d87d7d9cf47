"""A cycle's whole path in a real browser (issue 20, item 6): an operator starts a cycle from the
page (a refused submit first, with its error summary), computes and submits it; a supervisor who
made none of it approves; the operator issues the payments; the provider pays them (the worker's
claim and record steps, as tests/conftest.py's `pay` drives them); the provider simulator pays them (a real worker pass over HTTP, as tests/payments do); the
supervisor tries to mark the cycle distributed before any statement and is told in words why
not; an admin imports the simulator's signed statement on the reconciliation page; the cycle is
distributed and closed. axe-core checks every state visited."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.test import Client

from tepat.payments import signatures, worker
from tepat.payments.providers import G2PConnectAdapter
from tepat.programs import services as programs
from tepat.programs.models import Cycle, CycleState
from tests.conftest import register_household, signed_in

# The provider simulator and its keys (provider_keys is autouse there: it sets Tepat's copy of
# the providers' public keys for this module's tests too).
from tests.payments.conftest import provider_keys, provider_private_key, provider_sim  # noqa: F401
from tests.payments.test_reconciliation import _simulator_statement


def _context(browser: Any, live_server: Any, user: Any) -> Any:
    """A new browser context signed in as `user`, past the TOTP step (the log-in journey has its
    own test)."""
    c = signed_in(Client(), user)
    context = browser.new_context(base_url=live_server.url, locale="id-ID")
    context.set_default_timeout(10_000)
    context.add_cookies(
        [{"name": "sessionid", "value": c.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context


def _step(page: Any, key: str) -> str:
    return str(page.locator(f'[data-step="{key}"]').get_attribute("data-status"))


def test_a_cycle_goes_from_start_to_close_on_its_page(
    transactional_db,
    browser,
    live_server,
    axe,
    admin_user,
    bandung_operator,
    supervisor,
    provider_sim,  # noqa: F811 - tests/payments' fixture, imported above
    tmp_path,
    screenshots_dir,
) -> None:
    for i in (1, 2, 3):  # a pregnant mother and a child in SMP each: Rp1.125.000 a tahap
        register_household(i)
    prog = programs.programme_create(
        acting_user=admin_user, code="PKH-2026", name="Program Keluarga Harapan", kind="pkh",
        eligibility_rule="regency == '3273'", effective_from=dt.date(2026, 1, 1),
        effective_to=None, params={},
    )  # fmt: skip
    op_ctx = _context(browser, live_server, bandung_operator)
    spv_ctx = _context(browser, live_server, supervisor)
    admin_ctx = _context(browser, live_server, admin_user)
    try:
        op, spv = op_ctx.new_page(), spv_ctx.new_page()

        # The operator finds how to start a cycle.
        op.goto("/program/")
        op.get_by_role("link", name="Mulai tahap baru", exact=True).click()
        op.wait_for_url(re.compile(r"/program/tahap/baru/$"))
        axe(op, label="start a cycle")
        op.get_by_label("Program").select_option(prog.public_id)
        op.get_by_label("Kode tahap").fill("2026-T1")
        op.get_by_label("Periode mulai").fill("2026-01-01")
        op.get_by_label("Periode selesai").fill("2025-12-31")  # before the start
        op.get_by_label("Total kontrol: jumlah penerima").fill("10")
        op.get_by_label("Total kontrol: jumlah rupiah").fill("5000000")
        op.get_by_role("button", name="Buat tahap").click()
        summary = op.locator("[data-tepat-error-summary]")
        assert "Periode selesai" in summary.inner_text()
        axe(op, label="start a cycle: refused")
        op.screenshot(path=str(screenshots_dir / "cycle_new_refused.png"), full_page=True)
        # Focus went to the error summary (tepat.js), so it is announced and read first.
        op.wait_for_function(
            "() => document.activeElement?.hasAttribute('data-tepat-error-summary')"
        )
        op.get_by_label("Periode selesai").fill("2026-03-31")
        op.get_by_role("button", name="Buat tahap").click()
        op.wait_for_url(re.compile(r"/program/tahap/\w+/$"))
        cycle = Cycle.objects.get(code="2026-T1")
        assert cycle.region_code == "3273"
        assert op.get_by_test_id("cycle-control").inner_text() == "10 penerima / Rp5.000.000"
        assert _step(op, "compute") == "current"
        assert op.get_by_role("button", name="Setujui").count() == 0
        axe(op, label="cycle: draft")

        op.get_by_role("button", name="Hitung hak").click()
        op.wait_for_load_state()
        assert "Rp3.375.000" in op.get_by_test_id("cycle-entitled").inner_text()
        op.get_by_role("button", name="Ajukan persetujuan").click()
        op.wait_for_load_state()
        assert op.get_by_test_id("cycle-state").inner_text() == "Menunggu persetujuan"
        assert op.get_by_role("button", name="Setujui").count() == 0  # the maker: no approve
        axe(op, label="cycle: submitted (maker)")
        op.screenshot(path=str(screenshots_dir / "cycle_submitted.png"), full_page=True)

        url = f"/program/tahap/{cycle.public_id}/"
        spv.goto(url)
        assert _step(spv, "approve") == "current"
        axe(spv, label="cycle: to approve (checker)")
        spv.get_by_role("button", name="Setujui").click()
        spv.wait_for_load_state()
        assert spv.get_by_test_id("cycle-state").inner_text() == "Disetujui"
        assert "Tahap disetujui." in spv.get_by_role("status").first.inner_text()

        op.goto(url)
        issue = op.get_by_role("button", name="Terbitkan pembayaran")
        issue.wait_for()  # the payments panel arrives through htmx
        axe(op, label="cycle: approved, payments panel")
        issue.click()
        op.wait_for_load_state()
        op.get_by_test_id("payment-progress").wait_for()
        assert "0 dari 3 pembayaran selesai" in op.get_by_test_id("payment-progress").inner_text()
        axe(op, label="cycle: issued")

        sim = provider_sim()
        worker.run(adapter=G2PConnectAdapter(sim.url, timeout_s=5), config=worker.WorkerConfig(),
                   once=True)  # fmt: skip

        spv.goto(url)
        distribute = spv.get_by_role("button", name="Tandai tersalurkan")
        distribute.wait_for()
        assert spv.get_by_test_id("amount-paid").inner_text() == "Rp3.375.000"
        assert _step(spv, "reconcile") == "current"
        distribute.click()
        spv.wait_for_load_state()
        alert = spv.get_by_role("alert").filter(has_text="Belum rekonsiliasi")
        assert "selisih tanpa penjelasan" in alert.inner_text()
        assert "not_reconciled" not in alert.inner_text()
        axe(spv, label="cycle: distribution refused")
        # The provider's signed statement, imported by a national role on the reconciliation page.
        statement = tmp_path / "statement.json"
        statement.write_bytes(signatures.envelope_seal(
            provider_private_key("BRI"), provider="BRI",
            content=_simulator_statement(sim).encode()))  # fmt: skip
        admin = admin_ctx.new_page()
        admin.goto(f"/penyaluran/tahap/{cycle.public_id}/rekonsiliasi/")
        admin.set_input_files("#statement", str(statement))
        admin.get_by_role("button", name="Impor dan cocokkan").click()
        admin.wait_for_load_state()
        assert "3 cocok, 0 selisih" in admin.get_by_role("status").first.inner_text()
        axe(admin, label="reconciliation: statement imported")
        spv.reload()
        spv.get_by_role("button", name="Tandai tersalurkan").click()
        spv.wait_for_load_state()
        assert spv.get_by_test_id("cycle-state").inner_text() == "Tersalurkan"
        close = spv.get_by_role("button", name="Tutup tahap")
        close.wait_for()
        close.click()
        spv.wait_for_load_state()
        assert spv.get_by_test_id("cycle-state").inner_text() == "Selesai"
        assert spv.locator('[data-status="done"]').count() == 8
        axe(spv, label="cycle: closed")
        spv.screenshot(path=str(screenshots_dir / "cycle_closed.png"), full_page=True)
        cycle.refresh_from_db()
        assert cycle.state == CycleState.ENDED
    finally:
        op_ctx.close()
        spv_ctx.close()
        admin_ctx.close()
