"""Accessibility and weight of the staff pages in a real browser (issue 20, item 10).

Each role signs in and visits every page its navigation offers, with axe-core (WCAG 2.1 AA) on
each; a failed submit moves focus to an error summary that links to the fields; the menus work
with the keyboard without USWDS's script; a staff page weighs at most 150 KiB (HTML + the CSS
and scripts it loads, uncompressed) and a citizen page at most 50 KiB."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from tests.conftest import PASSWORD, pay, signed_in

STAFF_BUDGET = 150 * 1024
CITIZEN_BUDGET = 50 * 1024


def sign_in_as(page: Any, live_server: Any, user: Any) -> None:
    """The browser context carries `user`'s session (past TOTP: its own journey is tested in
    test_login_journey.py)."""
    client = signed_in(Client(), user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def nav_pages(page: Any) -> list[str]:
    """Every page the staff and account menus offer the signed-in user."""
    hrefs = page.eval_on_selector_all(
        "#tepat-staff-menu a, #tepat-user-menu a", "links => links.map(a => a.getAttribute('href'))"
    )
    return list(dict.fromkeys(hrefs))


@pytest.fixture
def cast(
    admin_user: Any,
    bandung_operator: Any,
    supervisor: Any,
    auditor: Any,
    field_agent: Any,
    dpo: Any,
    bandung_household: Any,
) -> dict[str, Any]:
    """Every role, and a paid cycle so the programme, payment and monitoring pages have rows."""
    from tepat.transparency.services import aggregates_refresh

    cycle = pay(
        operator=bandung_operator, supervisor=supervisor, admin=admin_user,
        households=[bandung_household],
    )  # fmt: skip
    aggregates_refresh()
    return {
        "users": {
            "admin": admin_user,
            "operator": bandung_operator,
            "supervisor": supervisor,
            "auditor": auditor,
            "field_agent": field_agent,
            "dpo": dpo,
        },
        "cycle": cycle,
        "household": bandung_household,
    }


def test_every_page_each_role_is_offered_passes_axe(
    page: Any, live_server: Any, axe: Any, cast: dict[str, Any]
) -> None:
    failures: list[str] = []
    visited: dict[str, int] = {}

    def check(label: str) -> None:
        try:
            axe(page, label=label)
        except AssertionError as error:  # collect them all: one run names every failing page
            failures.append(str(error))

    # Every role walks its whole menu; a page an earlier role has checked is checked again only
    # where the role changes what it shows (its landing page and the cycle page's actions), to
    # keep the walk within the suite's time.
    extra = {
        "operator": [
            f"/registry/rumah-tangga/{cast['household'].public_id}/",
            f"/program/tahap/{cast['cycle'].public_id}/",
        ],
        "supervisor": [f"/program/tahap/{cast['cycle'].public_id}/"],
    }
    for role, user in cast["users"].items():
        sign_in_as(page, live_server, user)
        page.goto("/accounts/kata-sandi/")
        menu = page.get_by_role("button", name="Kerja staf")
        if menu.count():
            menu.click()
            assert page.locator("#tepat-staff-menu").is_visible()
            if not visited:
                check(f"{role}: the staff menu open")
        offered = nav_pages(page)
        assert offered, role
        fresh = [p for p in offered if p not in visited]
        for path in [*offered[:1], *fresh, *extra.get(role, [])]:
            response = page.goto(path)
            assert response is not None
            assert response.status < 500, (role, path, response.status)
            page.wait_for_function("() => !document.querySelector('.htmx-request')")
            check(f"{role}: {path} ({response.status})")
            visited[path] = visited.get(path, 0) + 1
    for path in ("/transparansi/", "/tentang/"):  # the public pages in the staff shell
        page.goto(path)
        check(f"public: {path}")
    assert not failures, "\n\n".join(failures)
    # The walk covered the whole staff menu, not a role's corner of it.
    for path in ("/registry/", "/integrasi/", "/program/", "/pemantauan/", "/accounts/kata-sandi/"):
        assert any(v.startswith(path) for v in visited), (path, sorted(visited))


def test_the_menus_open_close_and_work_with_the_keyboard_without_uswds(
    page: Any, live_server: Any, bandung_operator: Any
) -> None:
    sign_in_as(page, live_server, bandung_operator)
    page.goto("/registry/")
    assert page.locator("script[src*='uswds'], link[href*='uswds']").count() == 0
    toggle = page.get_by_role("button", name="Kerja staf")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not page.locator("#tepat-staff-menu").is_visible()
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Registri"
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not page.locator("#tepat-staff-menu").is_visible()
    assert page.evaluate("() => document.activeElement.textContent") == "Kerja staf"
    # Opening one menu closes the other; a click elsewhere closes both.
    toggle.click()
    account = page.get_by_role("button", name=re.compile("op_bandung"))
    account.click()
    assert toggle.get_attribute("aria-expanded") == "false"
    assert page.locator("#tepat-user-menu").is_visible()
    page.locator("h1").click()
    assert not page.locator("#tepat-user-menu").is_visible()
    # On a phone the whole navigation folds behind the Menu button.
    page.set_viewport_size({"width": 375, "height": 800})
    assert not page.locator("#tepat-nav").is_visible()
    page.get_by_role("button", name="Menu").click()
    assert page.locator("#tepat-nav").is_visible()
    page.get_by_role("button", name="Kerja staf").click()
    page.get_by_role("link", name="Integrasi data").click()
    page.wait_for_url(re.compile("/integrasi/"))


def test_a_failed_submit_moves_focus_to_an_error_summary_that_links_to_the_fields(
    page: Any, live_server: Any, axe: Any, bandung_operator: Any
) -> None:
    page.goto("/accounts/masuk/")
    page.get_by_role("button", name="Masuk", exact=True).click()
    page.wait_for_load_state()
    summary = page.locator("[data-tepat-error-summary]")
    assert summary.count() == 1
    page.wait_for_function("() => document.activeElement?.hasAttribute('data-tepat-error-summary')")
    links = summary.get_by_role("link")
    assert links.count() == 2  # username and password are both required
    axe(page, label="log-in: failed submit")
    links.first.click()
    page.wait_for_function("() => document.activeElement?.id === 'id_username'")
    # The field's own message is part of its description.
    described = page.get_attribute("#id_username", "aria-describedby") or ""
    assert "id_username_error" in described.split()
    assert page.get_attribute("#id_username", "aria-invalid") == "true"

    sign_in_as(page, live_server, bandung_operator)
    page.goto("/accounts/kata-sandi/")
    page.get_by_label("Kata sandi saat ini").fill("salah-sekali-bukan-ini")
    page.get_by_label("Kata sandi baru", exact=True).fill(PASSWORD + "-baru")
    page.get_by_role("button", name="Ganti kata sandi").click()
    page.wait_for_load_state()
    page.wait_for_function("() => document.activeElement?.hasAttribute('data-tepat-error-summary')")
    axe(page, label="password change: failed submit")

    # A form of another app with its own error markup: focus goes to its first error all the same.
    page.goto("/privasi/permintaan/baru/")
    page.get_by_role("button", name="Cari").click()
    page.wait_for_load_state()
    page.wait_for_function("() => document.activeElement?.id === 'nik-error'")
    assert page.get_attribute("#nik", "aria-describedby") == "nik-error"
    axe(page, label="walk-in rights request: failed submit")


def page_bytes(page: Any, path: str) -> dict[str, int]:
    """Uncompressed bytes of the page's HTML and of the CSS and scripts it loads."""
    sizes = {"html": 0, "css": 0, "js": 0}
    kinds = {"document": "html", "stylesheet": "css", "script": "js"}

    def seen(response: Any) -> None:
        kind = kinds.get(response.request.resource_type)
        if kind and response.status == 200:
            sizes[kind] += len(response.body())

    page.on("response", seen)
    page.goto(path)
    page.wait_for_load_state("networkidle")
    page.remove_listener("response", seen)
    return sizes


def test_a_staff_page_weighs_at_most_150_kib_and_a_citizen_page_at_most_50_kib(
    page: Any, live_server: Any, axe: Any, bandung_operator: Any, bandung_household: Any
) -> None:
    for path in ("/", "/cek/", "/pengaduan/"):
        sizes = page_bytes(page, path)
        assert sizes["html"] > 0
        assert sum(sizes.values()) <= CITIZEN_BUDGET, (path, sizes)
        axe(page, label=f"citizen: {path} (on the shared tokens)")
    sign_in_as(page, live_server, bandung_operator)
    for path in ("/registry/", f"/registry/rumah-tangga/{bandung_household.public_id}/"):
        sizes = page_bytes(page, path)
        assert sizes["css"] > 0, sizes  # the assets were measured, not only the HTML
        assert sizes["js"] > 0, sizes
        assert sum(sizes.values()) <= STAFF_BUDGET, (path, sizes)


def test_the_staff_and_citizen_stylesheets_share_one_set_of_tokens() -> None:
    def tokens(asset: str) -> dict[str, str]:
        css = Path(str(finders.find(asset))).read_text(encoding="utf-8")
        block = re.search(r"/\* tokens:start \*/(.*?)/\* tokens:end \*/", css, re.S)
        assert block, asset
        return dict(re.findall(r"(--tp-[a-z0-9-]+):\s*([^;}]+?)\s*[;}]", block.group(1)))

    staff = tokens("tepat/tepat.css")
    assert len(staff) > 20
    assert staff == tokens("portal/citizen.css")  # the citizen copy is minified, same values
    assert staff["--tp-primary"] == "#0b4f6c"


def contrast(foreground: str, background: str) -> float:
    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_approve_button_reads_at_least_4_5_to_1(
    page: Any, live_server: Any, admin_user: Any, bandung_operator: Any, supervisor: Any,
    bandung_household: Any,
) -> None:  # fmt: skip
    from tepat.programs import services as programs

    cycle = pay(
        operator=bandung_operator, supervisor=supervisor, admin=admin_user,
        households=[bandung_household],
    )  # fmt: skip
    waiting = programs.cycle_create(
        acting_user=bandung_operator, programme=cycle.programme, code="2026-T2", instalment=2,
        period_start=cycle.period_end, period_end=cycle.period_end, control_count=1,
        control_amount=10**8,
    )  # fmt: skip
    programs.cycle_compute(
        acting_user=bandung_operator, cycle=waiting, desil={bandung_household.pk: 1}
    )
    programs.cycle_submit(acting_user=bandung_operator, cycle=waiting)
    sign_in_as(page, live_server, supervisor)
    page.goto(f"/program/tahap/{waiting.public_id}/")
    button = page.get_by_role("button", name="Setujui")
    colours = button.evaluate(
        """b => { const s = getComputedStyle(b); return [s.color, s.backgroundColor]; }"""
    )

    def hex_of(rgb: str) -> str:
        r, g, b = (int(x) for x in re.findall(r"\d+", rgb)[:3])
        return f"#{r:02x}{g:02x}{b:02x}"

    assert contrast(hex_of(colours[0]), hex_of(colours[1])) >= 4.5, colours


def test_the_contrast_helper_agrees_with_known_pairs() -> None:
    assert round(contrast("#ffffff", "#000000"), 1) == 21.0
    assert round(contrast("#ffffff", "#00bde3"), 2) == 2.24  # USWDS accent-cool: issue 20's 2.24:1
