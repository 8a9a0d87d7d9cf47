"""The status check page is written by `tepat.portal.cekpage`, without the template engine; the
template `portal/cek.html` stays its specification. These tests hold the two to the same bytes
in every branch and both languages, with values that need escaping everywhere a value goes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone, translation

from tepat.core import guard
from tepat.portal import cekpage
from tepat.portal.selectors import StatusResult, TahapRow

NASTY = "<b>\"x\" & 'y'</b>"
# 20:00 UTC is already the next day in Jakarta: the date shown is the local one.
LATE = dt.datetime(2026, 11, 30, 20, 0, tzinfo=dt.UTC)


def _row(**kw: Any) -> TahapRow:
    fields: dict[str, Any] = {
        "programme": "Program Keluarga Harapan",
        "cycle": "2026-T4",
        "tahap": 4,
        "period_start": dt.date(2026, 10, 1),
        "period_end": dt.date(2026, 12, 31),
        "amount": 750_000,
        "status": "paid",
        "status_label": "Dibayar",
        "channel": "Tunai melalui PT Pos",
        "collection_place": "Kantor Pos Sukasari",
        "collection_from": LATE,
        "collection_until": LATE + dt.timedelta(days=7),
    }
    return TahapRow(**{**fields, **kw})


FULL = StatusResult(
    masked_name="As** Su******",
    village_code="3273011001",
    desil=2,
    rows=[
        _row(),
        _row(programme=NASTY, status_label=NASTY, channel=NASTY, collection_place=NASTY),
        _row(tahap=3, collection_place="", collection_from=None, collection_until=None),
        _row(tahap=2, collection_until=None),
    ],
)
BARE = StatusResult(masked_name=NASTY, village_code="3273011001", desil=None, rows=[])

CASES: dict[str, dict[str, Any]] = {
    "first visit": {},
    "found": {"mode": "nik", "searched": True, "results": [FULL]},
    "several by village": {"mode": "region", "searched": True, "results": [FULL, BARE]},
    "not found": {"mode": "nik", "searched": True, "results": []},
    "every field wrong": {
        "mode": "region",
        "form": {"nik": NASTY, "name": NASTY, "village_code": NASTY},
        "errors": {"nik": NASTY, "name": "n", "village_code": NASTY, "answer": "a"},
    },
    "only the village wrong": {"mode": "region", "errors": {"village_code": "v"}},
    "over a limit": {"mode": "nik", "form": {"nik": "1"}, "error": NASTY},
}


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("case", list(CASES))
def test_the_page_is_byte_for_byte_what_the_template_renders(case: str, language: str) -> None:
    ctx: dict[str, Any] = {
        "form": {},
        "errors": {},
        "challenge": guard.Challenge(question=f"Berapa {NASTY}?", token=NASTY),
        **CASES[case],
    }
    request = RequestFactory().get("/cek/?next=<script>&a=1")
    with translation.override(language), timezone.override("Asia/Jakarta"):
        expected = render_to_string(
            "portal/cek.html", {**ctx, "nav": "cek", "csrf_token": NASTY}, request
        )
        written = cekpage.page(csrf_token=NASTY, full_path=request.get_full_path(), **ctx)
    assert written == expected
    assert NASTY not in written  # escaped wherever it went
    assert f'<html lang="{language}">' in written


def test_dates_are_shown_in_the_current_time_zone() -> None:
    ctx = {"form": {}, "errors": {}, "challenge": guard.Challenge("q", "t")}
    with translation.override("id"):
        with timezone.override("Asia/Jakarta"):
            jakarta = cekpage.page(csrf_token="c", full_path="/cek/", searched=True,
                                   results=[FULL], **ctx)  # fmt: skip
        with timezone.override("UTC"):
            utc = cekpage.page(csrf_token="c", full_path="/cek/", searched=True,
                               results=[FULL], **ctx)  # fmt: skip
    assert "Jadwal: 1 Des 2026" in jakarta
    assert "Jadwal: 30 Nov 2026" in utc


def test_the_layout_must_hold_each_marker_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A layout that lost (or doubled) the place of a per-request value is refused, rather
    than served with a value missing or in the wrong place."""
    monkeypatch.setattr(cekpage, "render_to_string", lambda *a, **k: "<html>no markers</html>")
    with pytest.raises(RuntimeError, match="exactly once"):
        cekpage._frame()


@pytest.mark.django_db
def test_each_response_has_its_own_csrf_token_and_challenge(client: Any) -> None:
    first, second = (client.get("/cek/").content.decode() for _ in range(2))
    assert first != second  # the challenge (and the masked CSRF token) differ per page
    assert first.count('name="csrfmiddlewaretoken"') == 2  # language switch and the form


@pytest.mark.django_db
def test_the_token_on_the_page_passes_the_csrf_check_and_a_post_without_it_is_refused(
    citizen: dict[str, Any],
) -> None:
    import re

    from django.test import Client

    from tests.portal.conftest import solve

    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/cek/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    data = {"mode": "nik", "nik": citizen["nik"], "name": citizen["name"], **solve(page)}
    assert browser.post("/cek/", data).status_code == 403
    answered = browser.post("/cek/", {**data, "csrfmiddlewaretoken": token.group(1)})
    assert answered.status_code == 200
    assert "As** Su******" in answered.content.decode()
