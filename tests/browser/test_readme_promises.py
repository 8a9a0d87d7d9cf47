"""The README's "What the demo shows", walked in Chromium as the people it names: the operator
(signing in with password and TOTP through the real pages), the supervisor, the auditor, the
DPO, the field agent, an operator of another regency and an anonymous citizen, with axe-core
(WCAG 2.1 AA) on every page state visited.

Other work changes these pages' wording, so the walk asserts what a promise rests on: the page
answers 200 at its address (or sends the visitor where the README says), it has a heading and a
main landmark, and the data the promise names is there (the household, the paid cycle), or is
not (another regency's household)."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client

from tepat.grievances.services import complaint_submit
from tepat.transparency.services import aggregates_refresh
from tests.conftest import BANDUNG_VILLAGE, OPERATOR_SECRET, PASSWORD, pay, signed_in


@pytest.fixture
def living(regions, admin_user, operator, supervisor, bandung_household) -> dict[str, Any]:
    """What the demo leaves behind, in small: a household of Kota Bandung, a PKH cycle paid to it
    (made by the admin, prepared and issued by the operator, approved by the supervisor), the
    public aggregates refreshed, and a complaint in the operator's inbox."""
    cache.clear()
    cycle = pay(operator=operator, supervisor=supervisor, admin=admin_user,
                households=[bandung_household])  # fmt: skip
    aggregates_refresh()
    complaint_submit(submission_key="readme0001", category="not_received",
                     village_code=BANDUNG_VILLAGE,
                     description="Bantuan tahap ini belum kami terima sampai sekarang.")  # fmt: skip
    head = bandung_household.members.get(relationship="head")
    return {"cycle": cycle, "household": bandung_household, "head": head}


def _visit(page: Any, axe: Any, path: str, *, who: str, status: int = 200) -> Any:
    response = page.goto(path)
    assert response is not None
    assert response.status == status, f"{who} {path}: HTTP {response.status}"
    assert page.locator("main").count() == 1, f"{who} {path}: no <main> landmark"
    assert page.locator("h1").count() >= 1, f"{who} {path}: no <h1>"
    axe(page, label=f"{who} {path}")
    return response


def _as(browser: Any, live_server: Any, user: Any) -> Any:
    """A page in a new browser context signed in as `user` past TOTP (the operator's walk below
    goes through the real log-in pages; the others start from a session)."""
    client = signed_in(Client(), user)
    context = browser.new_context(base_url=live_server.url, locale="id-ID")
    context.set_default_timeout(10_000)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    return context.new_page()


def test_the_operator_signs_in_and_walks_the_promises_of_their_regency(
    page: Any, axe: Any, living: dict[str, Any]
) -> None:
    household, head, cycle = living["household"], living["head"], living["cycle"]
    # /accounts/masuk/: password, then the TOTP code.
    _visit(page, axe, "/accounts/masuk/", who="anon")
    page.locator("input[name=username]").fill("operator.bandung")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form:has(input[name=username]) button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/masuk/kode/"))
    axe(page, label="TOTP step")
    page.locator("input[name=code]").fill(pyotp.TOTP(OPERATOR_SECRET).now())
    page.locator("form:has(input[name=code]) button[type=submit]").click()
    page.wait_for_url(re.compile(r"/registry/$"))
    axe(page, label="operator /registry/")

    # /registry/: search by name within the operator's regions; the household and its head.
    _visit(page, axe, "/registry/?name=Asep+Sunandar", who="operator")
    assert page.locator(f"a[href*='{household.public_id}']").count() >= 1
    _visit(page, axe, f"/registry/rumah-tangga/{household.public_id}/", who="operator")
    assert page.locator("table").count() >= 1  # members, attributes, history
    _visit(page, axe, f"/registry/rumah-tangga/{household.public_id}/?as_of=2026-01-01",
           who="operator")  # fmt: skip
    _visit(page, axe, f"/registry/orang/{head.public_id}/", who="operator")
    assert "3273011205800001" not in page.content()  # the head's NIK: masked until a purpose

    # /integrasi/: imports, the review queue, the data-quality page.
    for path in ("/integrasi/", "/integrasi/tinjau/", "/integrasi/kualitas/"):
        _visit(page, axe, path, who="operator")

    # /program/: the programmes, the page that starts a cycle, and the paid cycle's page.
    _visit(page, axe, "/program/", who="operator")
    _visit(page, axe, "/program/tahap/baru/", who="operator")
    _visit(page, axe, f"/program/tahap/{cycle.public_id}/", who="operator")
    assert cycle.programme.code in page.content()

    # /pengaduan/operator/: the complaint filed by a citizen; /pemantauan/: monitoring.
    _visit(page, axe, "/pengaduan/operator/", who="operator")
    assert page.locator("table").count() >= 1
    _visit(page, axe, "/pemantauan/", who="operator")
    # /privasi/permintaan/: the office's queue of data subjects' requests.
    _visit(page, axe, "/privasi/permintaan/", who="operator")


def test_another_regencys_operator_sees_none_of_bandung(
    browser: Any, live_server: Any, axe: Any, living: dict[str, Any], bogor_operator: Any
) -> None:
    household = living["household"]
    page = _as(browser, live_server, bogor_operator)
    _visit(page, axe, "/registry/?name=Asep+Sunandar", who="operator_bogor")
    assert page.locator(f"a[href*='{household.public_id}']").count() == 0
    response = page.goto(f"/registry/rumah-tangga/{household.public_id}/")
    assert response is not None
    assert response.status == 404  # out of scope reads as absent, never as forbidden
    page.context.close()


def test_supervisor_auditor_dpo_and_field_agent_each_reach_their_pages(
    browser: Any, live_server: Any, axe: Any, living: dict[str, Any], auditor: Any, dpo: Any,
    field_agent: Any, supervisor: Any,
) -> None:  # fmt: skip
    cycle = living["cycle"]
    walks = {
        "supervisor": (supervisor, ["/targeting/", "/targeting/musyawarah/",
                                    f"/program/tahap/{cycle.public_id}/",
                                    "/verifikasi/penukaran-ganda/", "/verifikasi/kebijakan/"]),
        "auditor": (auditor, ["/registry/", "/integrasi/", "/program/"]),
        "dpo": (dpo, ["/privasi/catatan/", "/pemantauan/insiden/", "/pemantauan/audit/"]),
        "field_agent": (field_agent, ["/lapangan/"]),
    }  # fmt: skip
    for who, (user, paths) in walks.items():
        page = _as(browser, live_server, user)
        for path in paths:
            _visit(page, axe, path, who=who)
        page.context.close()


def test_a_citizen_reaches_every_public_promise_without_signing_in(
    page: Any, axe: Any, living: dict[str, Any], settings: Any
) -> None:
    settings.TEPAT_SMS_SIMULATOR = True  # as `make demo` serves it
    for path in ("/", "/cek/", "/pengaduan/", "/transparansi/", "/transparansi/data/",
                 "/ledger/verify/", "/sms/simulator/"):  # fmt: skip
        _visit(page, axe, path, who="citizen")
    # The dashboard shows the paid cycle's programme among its figures.
    _visit(page, axe, "/transparansi/", who="citizen")
    assert page.locator("table").count() >= 1
    # "Data saya" and rights requests ask a citizen to sign in first.
    for path in ("/akun/data-saya/", "/akun/hak/"):
        page.goto(path)
        assert "/akun/masuk/" in page.url
    axe(page, label="citizen sign-in")
    # /api/docs: the JSON API's reference.
    response = page.goto("/api/docs")
    assert response is not None
    assert response.status == 200
