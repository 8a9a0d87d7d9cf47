"""Permission errors, missing pages and expired forms as read-only staff meet them in Chromium:
no control they may not use is shown; a refused htmx request shows its reason in the page's
alert region (instead of failing silently); the 403, 404 and expired-form pages are the site's
own, in Indonesian, with axe-core clean at WCAG 2.1 AA on every state."""

from __future__ import annotations

from typing import Any

from django.test import Client

from tests.conftest import signed_in
from tests.integration.test_importing import BAD_DATE, GOOD, _csv


def _sign_in(page: Any, live_server: Any, user: Any) -> None:
    """The browser context carries `user`'s session, past TOTP (its journey has its own test)."""
    client = signed_in(Client(), user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_read_only_staff_meet_clear_refusals_and_error_pages(
    page: Any, live_server: Any, axe: Any, auditor: Any, field_agent: Any, bandung_household: Any
) -> None:
    from tepat.integration.importing import import_file
    from tepat.integration.services import sources_ensure_builtin

    sources_ensure_builtin()
    run = import_file(
        acting_user=None, source_key="bpjs", file_name="b.csv", data=_csv(GOOD, BAD_DATE)
    ).run

    # An auditor reads the quarantine; no correction field, no resubmit button.
    _sign_in(page, live_server, auditor)
    page.goto(f"/integrasi/impor/{run.public_id}/")
    assert page.locator("h1").first.inner_text().startswith("Impor")
    assert page.locator("#resubmit-form").count() == 0
    assert page.get_by_role("button", name="Kirim ulang koreksi").count() == 0
    assert page.locator("#read-only-note").is_visible()
    axe(page, label="run page as auditor")

    # Posting anyway through htmx (as a stale page or a script would): the reason appears in
    # the alert region, the page itself stays as it was.
    heading = page.locator("h1").first.inner_text()
    page.evaluate(
        "url => htmx.ajax('POST', url, {target: 'h1'})",
        f"/integrasi/impor/{run.public_id}/kirim-ulang/",
    )
    alert = page.locator("#tepat-htmx-error [role=alert]")
    alert.wait_for()
    assert "Akses ditolak" in alert.inner_text()
    assert "you may not resubmit corrections" in alert.inner_text()
    assert page.locator("h1").first.inner_text() == heading
    axe(page, label="htmx refusal shown")

    # A name typed where an id belongs: the site's 404 page, pointing to the search.
    response = page.goto("/registry/rumah-tangga/Asep Sunandar/")
    assert response is not None
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Halaman tidak ditemukan"
    assert page.get_by_role("link", name="Cari di registri").is_visible()
    axe(page, label="404 page")

    # A field agent opening a page for other roles: the 403 page says so.
    _sign_in(page, live_server, field_agent)
    response = page.goto(f"/integrasi/impor/{run.public_id}/karantina.csv")
    assert response is not None
    assert response.status == 403
    assert page.locator("h1").inner_text() == "Akses ditolak"
    axe(page, label="403 page")

    # A form sent after its CSRF cookie is gone: "the form expired", and a way back.
    page.goto("/integrasi/")
    page.context.clear_cookies(name="csrftoken")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Formulir kedaluwarsa"
    assert page.locator("#error-back").get_attribute("href") == "/integrasi/"
    axe(page, label="expired form page")
