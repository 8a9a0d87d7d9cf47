"""The data subject's copy of their data (UU 27/2022 Art. 7 access, Art. 13 portability, Art. 32
answering within 3x24 hours): everything Tepat holds about one person and their household, as a
readable page, a PDF, JSON and CSV.

`subject_export` builds one plain, JSON-serialisable dict (dates ISO 8601 in UTC, money integer
rupiah); the renderers only lay it out, so the four formats always say the same thing. Every
section has an English key, a title in the active language (Bahasa Indonesia by default),
columns with a type that tells renderers how to show a value, and rows keyed by column. A row
may carry more keys than its columns (a ledger receipt in full): JSON keeps them, the other
formats show the columns.

What the subject sees of whom:
- Their own record in full: NIK, family card (KK) number, phone, account numbers. They are
  entitled to their own data (Art. 7), and they proved who they are (the portal's one-time code
  to the registered phone, or an office checking their KTP).
- The household's record in full (address, housing, assets): it describes the family as a
  whole, and it drives the household's score, which is the subject's score too.
- Other members: name, relationship, age and whether deceased, nothing else. Their NIK, birth
  date, disability, pregnancy, schooling and accounts are their own personal data (the health
  and child data are "specific" data, Art. 4), and each adult member can ask for their own
  copy. Their changes in the history show which fields changed, not the values; their
  complaints show category and status, not the text.
- Staff names never (the complaint history shown to citizens already omits them): the
  processing record (Art. 32(1), "rekam jejak pemrosesan": every audited view, download and
  change of the subject's or the household's record) names staff by role, with the purpose
  they stated. Sources, dates and reasons always.
- A sanggah (objection) about a member keeps its reporter's evidence photo and coordinates out:
  they locate the reporter, not the subject.

The sections are declared by the apps that hold the data (`<app>/subject_export.py`, listed in
each app's privacy declaration), one function per kind of data, reading through the app's own
selectors; `collect` builds them in reading order. The caller audits (the portal with the
citizen as actor, the office with the staff member) and records the answered request.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import unicodedata
import zipfile
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tepat.core import csvsafe
from tepat.core.money import format_rupiah
from tepat.core.subject_export import BOOL, CHANGES, DATE, DATETIME, MONEY, SubjectContext, iso
from tepat.privacy.declarations import export_sections
from tepat.registry.models import Person

SCHEMA = "tepat.subject-export"
SCHEMA_VERSION = 1


def subject_export(*, person: Person, requested_by: str | Any) -> dict[str, Any]:
    """Everything Tepat holds about `person` and their household, as one JSON-serialisable dict.
    `requested_by`: who asked, as it will be printed: a label ("warga (portal)") or a staff
    user (their username is printed)."""
    asked_by = str(getattr(requested_by, "username", None) or requested_by)
    person = Person.objects.select_related("household").get(pk=person.pk)
    sections = collect(person)
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "generated_at": iso(timezone.now()),
        "requested_by": asked_by,
        "language": get_language() or settings.LANGUAGE_CODE,
        "title": _("Salinan data pribadi Anda di Tepat"),
        "subject": {
            "public_id": person.public_id,
            "full_name": person.full_name,
            "household_public_id": person.household.public_id,
        },
        "notes": [
            _(
                "Ini salinan semua data yang disimpan Tepat tentang Anda dan keluarga Anda, "
                "sesuai hak Anda atas akses dan salinan data pribadi (UU 27/2022 Pasal 7 dan 13)."
            ),
            _(
                "Data anggota keluarga lain ditampilkan terbatas (nama, hubungan, umur): setiap "
                "anggota dewasa dapat meminta salinan datanya sendiri."
            ),
            _(
                "Jika ada data yang salah, ajukan pengaduan dengan kategori “Data diri atau "
                "keluarga salah”; perbaikan dicatat dengan sumber dan tanggalnya."
            ),
            _(
                "Waktu di halaman dan PDF dalam WIB (Asia/Jakarta); di JSON dan CSV dalam UTC "
                "(ISO 8601). Nominal dalam rupiah."
            ),
        ],
        "sections": sections,
    }


def collect(person: Person) -> dict[str, dict[str, Any]]:
    """Every section for `person` and their household, keyed by section key, in reading order:
    each app that holds the data declares its sections (`AppDeclaration.export_sections`)."""
    from tepat.registry.selectors import household_view

    household = person.household
    view = household_view(household=household)
    ctx = SubjectContext(person=person, household=household, members=view.members)
    ctx.member_by_ref = {m.person.public_id: m for m in view.members}
    return {s.key: s.build(ctx) for s in export_sections()}


# --- showing values ---------------------------------------------------------------------------

JAKARTA = ZoneInfo("Asia/Jakarta")
EMPTY = "\u2013"  # what an empty value shows


def display(value: Any, kind: str) -> str:
    """A value as a person reads it: rupiah, dates in WIB, yes/no; a dash when empty."""
    if value is None or value == "" or value == []:
        return EMPTY
    if kind == BOOL or isinstance(value, bool):
        return _("Ya") if value else _("Tidak")
    if kind == MONEY and isinstance(value, int):
        return format_rupiah(value)
    if kind == DATETIME and isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        return moment.astimezone(JAKARTA).strftime("%d-%m-%Y %H:%M WIB")
    if kind == DATE and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10]).strftime("%d-%m-%Y")
        except ValueError:
            return value
    if kind == CHANGES and isinstance(value, list):
        return "; ".join(_change_text(c) for c in value) or EMPTY
    return str(value)


def _change_text(change: Mapping[str, Any]) -> str:
    label = str(change.get("label") or change.get("field") or "")
    if "before" not in change and "after" not in change:
        return label
    before = EMPTY if change.get("before") in (None, "") else str(change.get("before"))
    after = EMPTY if change.get("after") in (None, "") else str(change.get("after"))
    return f"{label}: {before} \u2192 {after}"


def _flat(value: Any, kind: str) -> Any:
    """A value for a CSV cell: numbers and ISO text as they are, lists joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == CHANGES and isinstance(value, list):
        return "; ".join(_change_text(c) for c in value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


# --- renderers --------------------------------------------------------------------------------


def render_json(data: Mapping[str, Any]) -> bytes:
    """The export as UTF-8 JSON (the machine-readable copy, Art. 13)."""
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def _zip_time(data: Mapping[str, Any]) -> tuple[int, int, int, int, int, int]:
    try:
        moment = dt.datetime.fromisoformat(str(data.get("generated_at")))
    except ValueError:
        moment = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    m = moment.astimezone(dt.UTC)
    return (max(m.year, 1980), m.month, m.day, m.hour, m.minute, m.second)


def render_csv_zip(data: Mapping[str, Any]) -> bytes:
    """One CSV per section in a zip (UTF-8 with a byte-order mark, so spreadsheets read the
    accents), an index of the files, and each ledger receipt as its own JSON file (what the
    receipt checker takes). Every cell goes through `tepat.core.csvsafe`: names, complaint texts
    and agency attributes come from outside, and a cell such as `=HYPERLINK(...)` must never run
    when the citizen opens the file."""
    stamp = _zip_time(data)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:

        def put(name: str, payload: bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, payload)

        index = io.StringIO()
        iw = csvsafe.writer(index)
        iw.writerow(["file", "section", "title", "description"])
        for n, (key, section) in enumerate(data["sections"].items(), start=1):
            name = f"{n:02d}-{key}.csv"
            iw.writerow([name, key, section["title"], section["description"]])
            out = io.StringIO()
            w = csvsafe.writer(out)
            columns = section["columns"]
            if section["layout"] == "record":
                w.writerow(["field", "label", "value"])
                for row in section["rows"]:
                    for c in columns:
                        w.writerow([c["key"], c["title"], _flat(row.get(c["key"]), c["type"])])
            else:
                w.writerow([c["key"] for c in columns])
                for row in section["rows"]:
                    w.writerow([_flat(row.get(c["key"]), c["type"]) for c in columns])
            put(name, out.getvalue().encode("utf-8-sig"))
        for row in data["sections"].get("receipts", {}).get("rows", []):
            if row.get("receipt"):
                put(
                    f"tanda-terima/tanda-terima-{row['index']}.json",
                    json.dumps(row["receipt"], indent=1).encode("utf-8"),
                )
        meta = {k: data.get(k) for k in ("schema", "schema_version", "generated_at", "subject")}
        put("00-index.csv", index.getvalue().encode("utf-8-sig"))
        put("00-metadata.json", json.dumps(meta, ensure_ascii=False, indent=1).encode("utf-8"))
    return buffer.getvalue()


def html_sections(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The sections with every value ready to show (the template and PDF share this)."""
    out = []
    for key, section in data["sections"].items():
        columns = section["columns"]
        rows = [
            [(c["title"], display(row.get(c["key"]), c["type"])) for c in columns]
            for row in section["rows"]
        ]
        out.append(
            {
                "key": key,
                "title": section["title"],
                "description": section["description"],
                "layout": section["layout"],
                "headings": [c["title"] for c in columns],
                "rows": rows,
                # Narrow tables stay tables; a wide one reads better as one label/value block
                # per row (phones, A4 portrait).
                "as_table": section["layout"] == "table" and len(columns) <= 5,
            }
        )
    return out


def render_html(data: Mapping[str, Any]) -> SafeString:
    """The readable page's body (no <html> shell): the portal's "Data saya" page and the staff
    request page both include it in their own layout."""
    return render_to_string(
        "privacy/export.html",
        {
            "export": data,
            "sections": html_sections(data),
            "generated": display(data.get("generated_at"), DATETIME),
        },
    )


# --- PDF ----------------------------------------------------------------------------------------

FONT_DIR_DEFAULT = "/usr/share/fonts/truetype/dejavu"


def _font_files() -> tuple[Path, Path] | None:
    """DejaVu Sans regular and bold, when installed (TEPAT_PDF_FONT_DIR, default Debian's)."""
    folder = Path(str(getattr(settings, "TEPAT_PDF_FONT_DIR", FONT_DIR_DEFAULT)))
    regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
    if regular.is_file() and bold.is_file():
        return regular, bold
    return None


@lru_cache(maxsize=4)
def _font_codepoints(path: str, mtime: float) -> frozenset[int]:
    from fontTools import ttLib

    font = ttLib.TTFont(path, lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


def latin1_safe(text: str) -> str:
    """`text` in Latin-1, for the PDF core fonts: accents kept where Latin-1 has them, other
    letters reduced to their base letter (Ḥ -> H, ễ -> e), anything else "?"."""
    return _reduce(text, lambda ch: ord(ch) < 256)


# Letters and signs that Unicode does not decompose into a base letter, and their nearest text.
_NEAREST = {
    "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u0126": "H", "\u0127": "h",
    "\u0131": "i", "\u0152": "OE", "\u0153": "oe", "\u2013": "-", "\u2014": "-", "\u2018": "'",
    "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2192": "->", "\u2026": "...",
}  # fmt: skip


def _reduce(text: str, has: Callable[[str], bool]) -> str:
    out = []
    for ch in text:
        if has(ch):
            out.append(ch)
            continue
        if ch in _NEAREST:
            out.append(_NEAREST[ch])
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append(base if base and all(has(c) for c in base) else "?")
    return "".join(out)


@lru_cache(maxsize=1)
def _pdf_class() -> type[Any]:
    from fpdf import FPDF

    class ExportPdf(FPDF):
        footer_family = "Helvetica"
        footer_text = ""

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(self.footer_family, size=7)
            self.set_text_color(90)
            self.cell(0, 5, f"{self.footer_text} {self.page_no()}/{{nb}}", align="C")

    return ExportPdf


def _blank_pdf(fonts: tuple[Path, Path] | None) -> Any:
    """An empty A4 document with the fonts loaded. (Parsing DejaVu costs about 60 ms of CPU a
    document; a parsed font cannot be shared or copied between documents: writing a document
    subsets its font in place.)"""
    pdf = _pdf_class()(orientation="P", unit="mm", format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=16)
    if fonts is not None:
        pdf.add_font("DejaVu", "", str(fonts[0]))
        pdf.add_font("DejaVu", "B", str(fonts[1]))
    return pdf


def render_pdf(data: Mapping[str, Any], *, compress: bool = True) -> bytes:
    """A readable A4 PDF with headings in the export's language. DejaVu Sans (embedded, every
    Latin, Greek and Cyrillic letter) when installed; else the PDF core fonts with names reduced
    to Latin-1 (`latin1_safe`), so no name ever makes the export fail. Letters the font lacks
    (e.g. Chinese) are reduced the same way. `compress=False` keeps the page streams readable
    (tests)."""
    from fpdf.enums import MethodReturnValue, XPos, YPos
    from fpdf.fonts import FontFace

    fonts = _font_files()
    title = str(data.get("title", ""))
    pdf = _blank_pdf(fonts)
    pdf.set_compression(compress)
    if fonts is not None:
        family = "DejaVu"
        points = _font_codepoints(str(fonts[0]), os.path.getmtime(fonts[0]))

        def clean(text: str) -> str:
            return _reduce(text, lambda ch: ord(ch) in points or ch in "\n\t")

    else:
        family = "Helvetica"
        clean = latin1_safe
    pdf.footer_family = family
    pdf.footer_text = clean("Tepat · " + _("Salinan data pribadi · halaman"))
    pdf.set_title(clean(title))
    pdf.set_creator("Tepat")
    pdf.set_lang(str(data.get("language") or "id"))
    with contextlib.suppress(ValueError):
        pdf.set_creation_date(dt.datetime.fromisoformat(str(data.get("generated_at"))))
    pdf.add_page()
    width = pdf.epw

    def para(text: str, size: float = 9, style: str = "", gap: float = 1.5) -> None:
        pdf.set_font(family, style, size)
        pdf.multi_cell(width, size * 0.5, clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(gap)

    para(title, 16, "B", 2)
    subject = data.get("subject") or {}
    para(f"{subject.get('full_name', '')} · {subject.get('public_id', '')}", 10, "B", 0.5)
    para(
        _("Dibuat %(when)s atas permintaan %(who)s")
        % {
            "when": display(data.get("generated_at"), DATETIME),
            "who": data.get("requested_by", ""),
        },
        8,
    )
    for note in data.get("notes", []):
        para(str(note), 8, gap=1)
    heading = FontFace(emphasis="BOLD", fill_color=(230, 238, 242))
    label_w, line_h = width * 0.36, 4.0

    def wrapped(text: str, w: float, style: str) -> list[str]:
        pdf.set_font(family, style, 8)
        if pdf.get_string_width(text) <= w - 2 * pdf.c_margin and "\n" not in text:
            return [text]  # one line: no line breaking (most values)
        lines = pdf.multi_cell(w, line_h, text, dry_run=True, output=MethodReturnValue.LINES)
        assert isinstance(lines, list)
        return [str(line) for line in lines]

    def pairs(items: Sequence[tuple[str, str]]) -> None:
        """Label and value side by side, a hairline under each; much cheaper than a table."""
        pdf.set_draw_color(205)
        for label, value in items:
            left, right = (
                wrapped(clean(label), label_w, "B"),
                wrapped(clean(value), width - label_w, ""),
            )
            h = line_h * max(len(left), len(right)) + 1
            if pdf.will_page_break(h):
                pdf.add_page()
            x, y = pdf.l_margin, pdf.get_y()
            for column, lines, style in ((x, left, "B"), (x + label_w, right, "")):
                pdf.set_font(family, style, 8)
                for i, line in enumerate(lines):
                    pdf.set_xy(column, y + 0.5 + i * line_h)
                    pdf.cell(label_w if style else width - label_w, line_h, line)
            pdf.line(x, y + h, x + width, y + h)
            pdf.set_xy(x, y + h)

    for section in html_sections(data):
        pdf.ln(2)
        if pdf.get_y() > pdf.h - 45:
            pdf.add_page()
        para(section["title"], 12, "B", 0.5)
        para(section["description"], 8, gap=1)
        pdf.set_font(family, "", 8)
        if not section["rows"]:
            para(_("Tidak ada data."), 8, gap=1)
            continue
        if section["as_table"]:
            with pdf.table(
                headings_style=heading,
                line_height=4,
                text_align="LEFT",
                padding=1,
                width=width,
            ) as table:
                head = table.row()
                for h in section["headings"]:
                    head.cell(clean(h))
                for row in section["rows"]:
                    r = table.row()
                    for _title, value in row:
                        r.cell(clean(value))
            continue
        record = section["layout"] == "record"
        for row in section["rows"]:
            # A row of a wide table reads as a block of its filled fields; a record shows every
            # field, empty ones too (that nothing is held is an answer).
            pairs(row if record else [(k, v) for k, v in row if v != EMPTY])
            pdf.ln(2.5)
    return bytes(pdf.output())


# --- for the pages ----------------------------------------------------------------------------


def export_filename(data: Mapping[str, Any], extension: str) -> str:
    """A file name that says what it is and when, and nothing about who: no name, no NIK, no id
    (a file in a shared phone's download folder must not identify the family)."""
    try:
        day = dt.datetime.fromisoformat(str(data.get("generated_at"))).astimezone(JAKARTA)
    except ValueError:
        day = timezone.now().astimezone(JAKARTA)
    return f"data-saya-tepat-{day:%Y%m%d-%H%M}.{extension}"


def export_records(data: Mapping[str, Any]) -> int:
    """How many rows of personal data the export holds (what the audit counts)."""
    return sum(len(s["rows"]) for s in data["sections"].values())


FORMATS: dict[str, tuple[str, str, Callable[[Mapping[str, Any]], bytes]]] = {
    "json": ("json", "application/json", render_json),
    "csv": ("zip", "application/zip", render_csv_zip),
    "pdf": ("pdf", "application/pdf", render_pdf),
}
