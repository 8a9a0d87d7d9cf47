"""A staff member's journey in a real browser, and a keyboard and labelling smoke check."""

from __future__ import annotations

import re

import pyotp
from django.core.cache import cache

from tepat.accounts import services
from tepat.regions.models import Region

PASSWORD = "bansos-tepat-2026"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def make_operator():
    cache.clear()
    Region.objects.bulk_create(
        [
            Region(code="32", dotted_code="32", name="Jawa Barat", level="province"),
            Region(
                code="3273",
                dotted_code="32.73",
                name="Kota Bandung",
                level="regency",
                parent_id="32",
            ),
        ]
    )
    return services.user_create(
        acting_user=None,
        username="operator.bandung",
        password=PASSWORD,
        role="operator",
        region_codes=["3273"],
        totp_secret=SECRET,
    )


def test_staff_signs_in_with_password_and_totp_switches_language_and_signs_out(
    page, axe, screenshots_dir
):
    make_operator()
    page.goto("/")
    axe(page, label="home")
    page.screenshot(path=str(screenshots_dir / "home.png"), full_page=True)
    page.get_by_role("link", name="Masuk staf").first.click()
    page.wait_for_url(re.compile(r"/accounts/masuk/"))
    page.screenshot(path=str(screenshots_dir / "login.png"), full_page=True)
    axe(page, label="log-in")

    page.get_by_label("Nama pengguna").fill("operator.bandung")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk", exact=True).click()
    page.wait_for_url(re.compile(r"/accounts/masuk/kode/"))
    page.screenshot(path=str(screenshots_dir / "totp.png"), full_page=True)
    axe(page, label="log-in: code")

    page.get_by_label("Kode 6 digit").fill(pyotp.TOTP(SECRET).now())
    page.get_by_role("button", name="Verifikasi").click()
    page.wait_for_url(re.compile(r"/registry/$"))
    page.get_by_role("button", name="Kerja staf").click()
    assert page.get_by_role("link", name="Registri").is_visible()
    page.screenshot(path=str(screenshots_dir / "registry.png"), full_page=True)
    axe(page, label="registry, staff menu open")

    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Skip to main content").count() == 1
    page.get_by_role("button", name="Staff work").click()
    assert page.get_by_role("link", name="Registry", exact=True).is_visible()
    axe(page, label="registry in English, staff menu open")

    page.get_by_role("button", name=re.compile("operator.bandung")).click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/masuk/$"))
    assert page.get_by_text("You have signed out.").is_visible()
    axe(page, label="signed out")
    page.goto("/registry/")
    assert "/accounts/masuk/" in page.url


def test_the_skip_link_is_the_first_thing_a_keyboard_reaches(page, axe):
    page.goto("/accounts/masuk/")
    axe(page, label="log-in")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => [document.activeElement.className, document.activeElement.getAttribute('href')]"
    )
    assert focused == ["usa-skipnav", "#main-content"]
    assert page.locator(".usa-skipnav").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main-content"


def test_every_form_field_on_the_log_in_page_has_a_label(page, axe):
    page.goto("/accounts/masuk/")
    axe(page, label="log-in")
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(el => el.type !== 'hidden')
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
            .map(el => el.name)"""
    )
    assert unlabelled == []
    buttons_without_names = page.evaluate(
        """() => [...document.querySelectorAll('button')]
            .filter(b => !b.textContent.trim() && !b.getAttribute('aria-label')
                        && !b.querySelector('img[alt]'))
            .map(b => b.outerHTML)"""
    )
    assert buttons_without_names == []


def test_the_sign_in_form_works_with_the_keyboard_alone(page, axe):
    make_operator()
    page.goto("/accounts/masuk/")
    page.get_by_label("Nama pengguna").focus()
    page.keyboard.type("operator.bandung")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/accounts/masuk/kode/"))
    assert page.evaluate("() => document.activeElement.tagName") in {"BODY", "INPUT"}
    axe(page, label="log-in: code, reached by keyboard")


def test_a_new_supervisor_enrols_totp_from_the_key_shown_on_screen(page, axe, screenshots_dir):
    make_operator()
    services.user_create(
        acting_user=None,
        username="supervisor.jabar",
        password=PASSWORD,
        role="supervisor",
        region_codes=["32"],
    )
    page.goto("/accounts/masuk/")
    page.get_by_label("Nama pengguna").fill("supervisor.jabar")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk", exact=True).click()
    page.wait_for_url(re.compile(r"/accounts/masuk/daftar-kode/"))
    assert page.locator("svg.tepat-qr").is_visible()
    page.screenshot(path=str(screenshots_dir / "enrol.png"), full_page=True)
    axe(page, label="TOTP enrolment")
    secret = page.locator("#tepat-totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Kode 6 digit").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Aktifkan").click()
    page.wait_for_url(re.compile(r"/registry/$"))
    assert page.get_by_text("Autentikasi dua langkah aktif.").is_visible()
    axe(page, label="registry after enrolment")
