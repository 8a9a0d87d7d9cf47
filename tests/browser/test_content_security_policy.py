"""The Content-Security-Policy in a real browser: the pages run without a single violation
(issue 16, item 14), and an injected inline script is refused."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest

from tepat.programs.models import Cycle
from tepat.transparency.services import aggregates_refresh
from tests.browser.test_login_journey import PASSWORD, SECRET, make_operator
from tests.conftest import make_staff, signed_in
from tests.transparency.builders import published  # noqa: F401 (a fixture)


@pytest.fixture
def violations(page: Any) -> list[str]:
    """Every CSP violation the page reports, and every console line about one."""
    seen: list[str] = []
    page.on(
        "console",
        lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.expose_function("tepatViolation", lambda text: seen.append(text))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.tepatViolation(e.violatedDirective + ' ' + e.blockedURI));"
    )
    return seen


def test_the_staff_pages_run_without_a_policy_violation(
    page: Any, axe: Any, violations: list[str]
) -> None:
    make_operator()
    page.goto("/accounts/masuk/")
    axe(page, label="log-in")
    page.get_by_label("Nama pengguna").fill("operator.bandung")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk", exact=True).click()
    page.wait_for_url(re.compile(r"/accounts/masuk/kode/"))
    axe(page, label="log-in: code")
    page.get_by_label("Kode 6 digit").fill(pyotp.TOTP(SECRET).now())
    page.get_by_role("button", name="Verifikasi").click()
    page.wait_for_url(re.compile(r"/registry/$"))
    page.get_by_role("button", name="Kerja staf").click()  # USWDS's menu script runs
    assert page.get_by_role("link", name="Registri").is_visible()
    axe(page, label="registry, staff menu open")
    for path in ("/accounts/kata-sandi/", "/api/docs"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        axe(page, label=path)
    assert page.locator(".swagger-ui").count() == 1
    assert violations == []


def test_the_field_app_runs_without_a_policy_violation(
    page: Any, axe: Any, live_server: Any, violations: list[str]
) -> None:
    from django.test import Client

    client = signed_in(Client(), make_staff("petugas", "field_agent", ("3273",)))
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto("/lapangan/")
    page.wait_for_load_state("networkidle")
    # The page's own style sheet (with the response's nonce) applied.
    assert page.evaluate("() => getComputedStyle(document.body).maxWidth") == "640px"
    axe(page, label="field app")
    assert violations == []


def test_the_citizen_pages_run_without_a_policy_violation(
    page: Any, axe: Any, violations: list[str]
) -> None:
    for path in ("/", "/cek/", "/pengaduan/", "/pengaduan/usul-sanggah/", "/tentang/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        axe(page, label=path)
    page.goto("/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    assert violations == []


def test_the_dashboard_runs_without_a_policy_violation(
    page: Any,
    axe: Any,
    published: Cycle,  # noqa: F811 (the fixture imported above)
    violations: list[str],
) -> None:
    aggregates_refresh()
    page.goto("/transparansi/")
    page.wait_for_load_state("networkidle")
    assert page.locator("#tile-grid .tepat-tile").count() == 38
    axe(page, label="dashboard")
    assert violations == []


def test_an_injected_inline_script_does_not_run(page: Any, axe: Any, violations: list[str]) -> None:
    page.goto("/accounts/masuk/")
    axe(page, label="log-in")
    page.evaluate(
        """() => {
            const s = document.createElement('script');
            s.textContent = 'window.injected = true';
            document.body.appendChild(s);
        }"""
    )
    assert page.evaluate("() => window.injected === undefined")
    assert any("script-src" in v for v in violations)
