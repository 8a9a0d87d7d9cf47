"""The status check page (Cek Bansos), written without the template engine.

`portal/cek.html` describes this page and stays its specification: the tests render the
template and this module with the same context and require the same bytes, for every branch
(form errors, limits, found with and without tahap rows, several people, not found, both
languages). A change to the page goes into both, and the tests say when they differ.

Why: the check is the busiest public path (target 1,000 checks/s on two cores, about 2 ms of
CPU per check in all), and the template engine took ~0.8 ms of it for the found page, ~0.5 ms
for the others, although nearly all of the page is fixed per language. Here:

- the layout (`citizen_base.html`, the title) is rendered by the template engine, once per
  language and script prefix, from `portal/_cek_frame.html`, with markers where the CSRF token,
  the current path, the content and the scripts go; the markers are then filled per request;
- the labels and messages of the content are translated and escaped once per language;
- what varies per request (the masked result, the form values, the errors, the challenge, the
  CSRF token, the path) is escaped here, each value as `{{ value }}` would escape it.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import get_script_prefix
from django.utils.formats import date_format, localize
from django.utils.timezone import is_aware, localtime
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tepat.core.guard import Challenge
from tepat.core.money import format_rupiah
from tepat.portal.selectors import StatusResult, TahapRow

# Control characters never appear in the layout's markup; each marks where a per-request value
# goes.
_CSRF, _PATH, _CONTENT, _SCRIPTS = "\x01csrf\x01", "\x01path\x01", "\x01content\x01", "\x01js\x01"
_MARKERS = (_CSRF, _PATH, _CONTENT, _SCRIPTS)


def _e(value: Any) -> str:
    """`{{ value }}`'s escaping (Django's `escape`: `html.escape` of the text), without the
    lazy-string wrapper around it. Applied to every value, marked safe or not."""
    return html.escape(str(value))


class _MarkerRequest:
    """What the layout reads from `request`: only the current path."""

    def get_full_path(self) -> str:
        return _PATH


def _frame() -> tuple[str, ...]:
    """The layout around the content, split at the markers (five parts, in marker order)."""
    markup: str = render_to_string(
        "portal/_cek_frame.html",
        {
            "csrf_token": _CSRF,
            "request": _MarkerRequest(),
            "nav": "cek",
            "content": _CONTENT,
            "scripts": _SCRIPTS,
        },
    )
    parts: list[str] = []
    for marker in _MARKERS:
        head, sep, markup = markup.partition(marker)
        if not sep or marker in markup:
            raise RuntimeError(f"portal/_cek_frame.html: {marker!r} must appear exactly once")
        parts.append(head)
    parts.append(markup)
    return tuple(parts)


class _Texts:
    """The content's fixed text in one language, translated and escaped (as `{% translate %}`
    escapes it)."""

    def __init__(self) -> None:
        t = self.t = {
            key: _e(_(msg))
            for key, msg in {
                "h1": "Cek status bantuan sosial",
                "results": "Hasil pencarian",
                "name": "Nama",
                "desil": "Desil",
                "none_yet": "Belum ada",
                "programme": "Program",
                "no_programme": "Tidak ada program aktif",
                "per_tahap": "Status per tahap",
                "col_programme": "Program / tahap",
                "col_status": "Status",
                "col_amount": "Nominal",
                "col_channel": "Penyaluran",
                "tahap": "Tahap",
                "place": "Tempat",
                "schedule": "Jadwal",
                "not_found": "Data tidak ditemukan. Periksa kembali NIK dan nama sesuai KTP, atau "
                "hubungi operator desa/kelurahan.",
                "search_by": "Cari dengan",
                "by_nik": "NIK dan nama",
                "by_region": "Wilayah dan nama",
                "nik_label": "NIK (16 angka); bila mencari dengan wilayah: NIK atau nomor KK",
                "province": "Provinsi",
                "regency": "Kabupaten/kota",
                "district": "Kecamatan",
                "village": "Desa/kelurahan",
                "village_label": "Kode desa/kelurahan (10 angka, untuk pencarian wilayah)",
                "village_hint": "Contoh: 3273011001. Tanyakan ke kantor desa bila tidak tahu.",
                "name_label": "Nama lengkap sesuai KTP",
                "question": "Pertanyaan keamanan",
                "submit": "Cari data",
            }.items()
        }
        self.memo: dict[Any, str] = {}
        self.frame = _frame()
        self.h1 = f"\n<h1>{t['h1']}</h1>\n"
        self.results_head = (
            '\n<section aria-labelledby="hasil" class="card" id="hasil-card" tabindex="-1">\n'
            f'  <h2 id="hasil">{t["results"]}</h2>\n  '
        )
        self.table_head = (
            f'\n    <table>\n      <caption class="sr-only">{t["per_tahap"]}</caption>\n'
            f'      <thead><tr><th scope="col">{t["col_programme"]}</th><th scope="col">'
            f'{t["col_status"]}</th><th scope="col">{t["col_amount"]}</th><th scope="col">'
            f"{t['col_channel']}</th></tr></thead>\n      <tbody>\n      "
        )
        self.not_found = f'\n  <p id="not-found">{t["not_found"]}</p>\n  \n</section>\n'
        self.form_open = f'\n<form method="post" action="{_e(_url("portal:cek"))}" novalidate>'
        self.fieldset = {
            region: (
                f"\n  <fieldset>\n    <legend>{t['search_by']}</legend>\n"
                '    <label class="choice"><input type="radio" name="mode" value="nik"'
                f"{'' if region else ' checked'}> {t['by_nik']}</label>\n"
                '    <label class="choice"><input type="radio" name="mode" value="region"'
                f"{' checked' if region else ''}> {t['by_region']}</label>\n  </fieldset>\n"
                f'  <label for="nik">{t["nik_label"]}</label>'
            )
            for region in (False, True)
        }
        self.region_picker = (
            '\n  <div class="region-picker" data-target="village_code" '
            f'data-url="{_e(_url("regions:options"))}" '
            f'data-labels=\'{{"province": "{t["province"]}", "regency": "{t["regency"]}", '
            f'"district": "{t["district"]}", "village": "{t["village"]}"}}\'></div>\n'
            f'  <label for="village_code">{t["village_label"]}</label>\n'
            f'  <p class="hint" id="village-hint">{t["village_hint"]}</p>'
        )
        self.name_label = f'\n  <label for="name">{t["name_label"]}</label>'
        self.question = f'\n  <label for="answer">{t["question"]}: '
        self.form_close = f'<button type="submit">{t["submit"]}</button>\n</form>\n'
        self.scripts = f'<script src="{_e(static("portal/region.js"))}" defer></script>'
        # After a search: the same plus the script that moves focus to the result. Built here,
        # once, like the rest: `static()` costs ~20 us a call (app registry, storage, urljoin).
        self.scripts_searched = (
            self.scripts + f'<script src="{_e(static("portal/cek-result.js"))}" defer></script>'
        )


def _url(name: str) -> str:
    from tepat.portal.templatetags.citizen import citizen_url

    return citizen_url(name)


_texts: dict[tuple[str, str], _Texts] = {}


def texts() -> _Texts:
    key = (get_language() or "", get_script_prefix())
    found = _texts.get(key)
    if found is None:
        if len(_texts) >= 64:  # a bounded set (languages x prefixes); never grow without limit
            _texts.clear()
        found = _texts[key] = _Texts()
    return found


# Dates and numbers are formatted through Django (names of months in the language, the number
# format settings) and remembered per language: a page shows a handful of distinct values.
_MEMO_MAX = 4096


def _date(x: _Texts, value: dt.date | dt.datetime | None, fmt: str) -> str:
    """`{{ value|date:fmt }}` for a format of day, month and year only: a datetime is taken in
    the current time zone first, as the filter does."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if settings.USE_TZ and is_aware(value):
            value = localtime(value)
        value = value.date()
    key = (fmt, value)
    out = x.memo.get(key)
    if out is None:
        if len(x.memo) >= _MEMO_MAX:
            x.memo.clear()
        out = x.memo[key] = _e(date_format(value, fmt))
    return out


def _number(x: _Texts, value: int) -> str:
    """`{{ value }}` for an integer (localized as the template engine localizes it)."""
    out = x.memo.get(value)
    if out is None:
        if len(x.memo) >= _MEMO_MAX:
            x.memo.clear()
        out = x.memo[value] = _e(localize(value))
    return out


def _row(x: _Texts, row: TahapRow) -> str:
    t = x.t
    out = [
        f"\n      <tr>\n        <td>{_e(row.programme)}<br>{t['tahap']} {_number(x, row.tahap)} "
        f"({_date(x, row.period_start, 'M Y')}–{_date(x, row.period_end, 'M Y')})</td>\n"
        f"        <td>{_e(row.status_label)}</td>\n"
        f"        <td>{_e(format_rupiah(row.amount))}</td>\n"
        f"        <td>{_e(row.channel)}"
    ]
    if row.collection_place:
        out.append(f"<br>{t['place']}: {_e(row.collection_place)}")
    if row.collection_from:
        out.append(f"<br>{t['schedule']}: {_date(x, row.collection_from, 'j M Y')}")
        if row.collection_until:
            out.append(f"–{_date(x, row.collection_until, 'j M Y')}")
    out.append("</td>\n      </tr>\n      ")
    return "".join(out)


def _result(x: _Texts, r: StatusResult) -> str:
    t = x.t
    desil = _number(x, r.desil) if r.desil else t["none_yet"]
    programmes = ", ".join(_e(p) for p in r.programmes) or t["no_programme"]
    out = [
        '\n  <div class="result">\n    <dl>\n'
        f"      <dt>{t['name']}</dt><dd>{_e(r.masked_name)}</dd>\n"
        f"      <dt>{t['desil']}</dt><dd>{desil}</dd>\n"
        f"      <dt>{t['programme']}</dt><dd>{programmes}</dd>\n    </dl>\n    "
    ]
    if r.rows:
        out.append(x.table_head)
        out.extend(_row(x, row) for row in r.rows)
        out.append("\n      </tbody>\n    </table>\n    ")
    out.append("\n  </div>\n  ")
    return "".join(out)


def _error(errors: Mapping[str, Any], field: str) -> tuple[str, str]:
    """A field's error: the attributes its input gets and the message after it ("" without)."""
    error = errors.get(field, "")
    if not error:
        return "", ""
    attrs = f' aria-invalid="true" aria-describedby="{field}-error"'
    return attrs, f'<p class="error" id="{field}-error">{_e(error)}</p>'


def content(
    x: _Texts,
    *,
    csrf_input: str,
    form: Mapping[str, Any],
    errors: Mapping[str, Any],
    challenge: Challenge,
    mode: str | None = None,
    error: str = "",
    searched: bool = False,
    results: Iterable[StatusResult] = (),
) -> str:
    """The `content` block of portal/cek.html."""
    out = [x.h1]
    if error:
        out.append(f'<div class="alert alert-error" role="alert"><p>{_e(error)}</p></div>')
    out.append("\n")
    if searched:
        out.append(x.results_head)
        found = list(results)
        if found:
            out.append("\n  ")
            out.extend(_result(x, r) for r in found)
            out.append("\n  \n</section>\n")
        else:
            out.append(x.not_found)
    nik_attrs, nik_error = _error(errors, "nik")
    name_attrs, name_error = _error(errors, "name")
    answer_attrs, answer_error = _error(errors, "answer")
    village_error = errors.get("village_code", "")
    if village_error:
        village_attrs = ' village_code-error" aria-invalid="true"'
        village_error = f'<p class="error" id="village_code-error">{_e(village_error)}</p>'
    else:
        village_attrs = '"'
    out += [
        x.form_open,
        csrf_input,
        x.fieldset[mode == "region"],
        '\n  <input id="nik" name="nik" inputmode="numeric" autocomplete="off" maxlength="24" '
        f'value="{_e(form.get("nik", ""))}"{nik_attrs}>\n  ',
        nik_error,
        x.region_picker,
        '\n  <input id="village_code" name="village_code" inputmode="numeric" maxlength="13" '
        f'value="{_e(form.get("village_code", ""))}" aria-describedby="village-hint'
        f"{village_attrs}>\n  ",
        village_error,
        x.name_label,
        '\n  <input id="name" name="name" autocomplete="name" maxlength="150" '
        f'value="{_e(form.get("name", ""))}"{name_attrs}>\n  ',
        name_error,
        x.question,
        _e(challenge.question),
        '</label>\n  <input id="answer" name="answer" inputmode="numeric" autocomplete="off" '
        f'maxlength="3"{answer_attrs}>\n  ',
        answer_error,
        f'\n  <input type="hidden" name="challenge" value="{_e(challenge.token)}">\n  ',
        x.form_close,
    ]
    return "".join(out)


def page(*, csrf_token: str, full_path: str, **ctx: Any) -> str:
    """The whole page, as `render_to_string("portal/cek.html", ctx)` renders it."""
    x = texts()
    token = _e(csrf_token)
    csrf_input = f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
    f = x.frame
    scripts = x.scripts_searched if ctx.get("searched") else x.scripts
    return "".join(
        (
            f[0],
            token,
            f[1],
            _e(full_path),
            f[2],
            content(x, csrf_input=csrf_input, **ctx),
            f[3],
            scripts,
            f[4],
        )
    )


def response(request: HttpRequest, status: int = 200, **ctx: Any) -> HttpResponse:
    return HttpResponse(
        page(csrf_token=get_token(request), full_path=request.get_full_path(), **ctx),
        status=status,
    )
