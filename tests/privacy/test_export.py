"""The data subject's copy (UU 27/2022 Art. 7 access, Art. 13 portability): what it holds, what
it leaves out, its four formats, and the citizen's "Data saya" page and downloads."""

# ruff: noqa: F811 - fixtures imported from the cast are requested by name
from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

import pytest
from django.core.cache import cache

from tepat.core.models import AuditEvent
from tepat.privacy import export
from tests.privacy.export_cast import (  # noqa: F401 (family: a fixture)
    FORMULA,
    NEIGHBOUR_NAME,
    NEIGHBOUR_SECRET,
    Family,
    family,
)
from tests.privacy.pdftext import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


@pytest.fixture
def data(family: Family) -> dict[str, Any]:
    return export.subject_export(person=family.head, requested_by="warga (portal)")


def rows(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return list(data["sections"][key]["rows"])


def csv_files(blob: bytes) -> dict[str, list[list[str]]]:
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        return {
            name: list(csv.reader(io.StringIO(zf.read(name).decode("utf-8-sig"))))
            for name in zf.namelist()
            if name.endswith(".csv")
        }


def every_format(data: dict[str, Any]) -> dict[str, str]:
    """The export as text, in each format (the PDF's drawn text, the zip's files)."""
    with zipfile.ZipFile(io.BytesIO(export.render_csv_zip(data))) as zf:
        zipped = "\n".join(zf.read(n).decode("utf-8-sig") for n in zf.namelist())
    return {
        "json": export.render_json(data).decode("utf-8"),
        "csv": zipped,
        "html": str(export.render_html(data)),
        "pdf": pdf_text(export.render_pdf(data, compress=False)),
    }


# --- what the copy holds ------------------------------------------------------------------------


def test_the_copy_holds_the_subject_s_own_identifiers_in_full(family, data):
    me = rows(data, "subject")[0]
    assert me["nik"] == family.nik
    assert me["full_name"] == "Asep Sunandar"
    assert me["birth_date"] == "1980-05-12"
    assert me["phone"] == "081234567890"
    assert rows(data, "household")[0]["kk"] == family.kk
    assert rows(data, "household")[0]["region"].startswith("Sukarasa, Sukasari, Kota Bandung")
    assert [a["account"] for a in rows(data, "financial_addresses")] == [family.account]


def test_the_copy_holds_scores_with_their_explanation(data):
    (score,) = rows(data, "scores")
    assert 1 <= score["desil_national"] <= 10
    assert score["model_version"] == 1
    assert isinstance(score["consumption_estimate"], int)
    explained = rows(data, "score_explanation")
    assert explained, "the latest score comes with the proxies that moved it"
    assert {"label", "value", "effect_percent", "direction"} <= set(explained[0])
    assert any(e["proxy"].startswith("floor") for e in explained)


def test_the_copy_holds_programmes_payments_and_their_ledger_receipts(family, data):
    (ent,) = rows(data, "entitlements")
    assert ent["programme"] == "Program Keluarga Harapan"
    assert ent["rule"] == "desil <= 4"
    assert ent["desil"] == 1
    assert ent["components"] == "ibu hamil: 1, anak SMP: 1"
    (pay,) = rows(data, "payments")
    assert pay["payment"] == family.payment_ref
    assert pay["amount"] == ent["amount"] > 0
    assert isinstance(pay["amount"], int)
    assert pay["provider"] == "BRI"
    assert pay["state"] == "Dibayar"
    assert pay["recipient"] == "Anda"
    receipts = rows(data, "receipts")
    assert {r["kind"] for r in receipts} == {"Pembayaran dikirim ke penyalur", "Pembayaran selesai"}
    assert {r["receipt"]["kind"] for r in receipts} == {"payment.sent", "payment.settled"}
    assert all(r["payment"] == family.payment_ref for r in receipts)
    full = receipts[0]["receipt"]
    assert full["index"] == receipts[0]["index"]
    assert full["checkpoint"]
    assert full["proof"] is not None
    assert pay["receipts"] == ", ".join(f"#{r['index']}" for r in receipts)


def test_the_copy_holds_complaints_messages_sign_ins_and_who_received_the_data(family, data):
    (complaint,) = rows(data, "complaints")
    assert complaint["tracking_code"] == family.complaint_code
    assert complaint["description"].startswith(FORMULA)
    assert complaint["filed_by"] == "Anda"
    assert [e["tracking_code"] for e in rows(data, "complaint_events")] == [family.complaint_code]
    assert [m["template"] for m in rows(data, "messages")] == ["paid"]
    assert len(rows(data, "sign_ins")) == 1
    recipients = {r["recipient"]: r for r in rows(data, "recipients")}
    assert recipients["BRI"]["count"] == 1
    assert "nomor rekening" in recipients["BRI"]["data"]
    public = recipients["Log transparansi publik"]
    assert public["count"] == 2
    assert public["data"].startswith("nomor pembayaran, ")
    assert "nama samaran" in public["data"]
    assert public["data"].endswith("; tanpa nama, NIK atau nomor rekening")
    assert recipients["Gateway SMS"]["count"] == 1


def test_the_history_names_its_sources_and_dates(data):
    history = rows(data, "history")
    assert {h["source"] for h in history} == {"test", "musdes-2026", "verifikasi-lapangan"}
    assert all(h["at"].endswith("+00:00") for h in history)
    (floor,) = [h for h in history if h["source"] == "verifikasi-lapangan"]
    assert floor["about"] == "Rumah tangga"
    assert floor["reason"] == "kunjungan rumah"
    assert floor["changes"] == [
        {"field": "floor_material", "label": "Lantai", "before": "cement", "after": "ceramic"}
    ]
    (education,) = [h for h in history if h["source"] == "musdes-2026"]
    assert education["about"] == "Istri/suami"
    assert education["changes"] == [{"field": "education", "label": "Pendidikan tertinggi"}]


def test_agency_records_and_flags_say_where_the_data_came_from(family):
    """Linkage (tested in tests/integration) leaves these rows; here they are written as it
    leaves them, to see how the copy shows them."""
    import datetime as dt

    from tepat.integration.models import Flag, ImportRun, LinkRun, Source, StagedRecord

    source = Source.objects.create(key="asn", name="Gaji ASN", config={})
    run = ImportRun.objects.create(
        source=source, file_name="asn.csv", content_hash="x", delivered_on=dt.date(2026, 5, 2)
    )
    spouse = family.household.members.get(relationship="spouse")
    for person, record in ((family.head, "ASN-1"), (spouse, "ASN-2")):
        StagedRecord.objects.create(
            source=source, run=run, record_id=record, row_number=1, full_name=person.full_name,
            attrs={"GOLONGAN": "III/b", "CATATAN": "-"}, person=person,
        )  # fmt: skip
    link = LinkRun.objects.create(status="done")
    for person, detail in ((family.head, "asn ASN-1"), (spouse, "asn ASN-2")):
        Flag.objects.create(
            kind="civil_servant", person=person, household=family.household,
            village_code=family.household.village_id, source="asn", as_of=dt.date(2026, 5, 2),
            detail=detail, link_run=link,
        )  # fmt: skip
    data = export.subject_export(person=family.head, requested_by="warga")
    (record,) = rows(data, "sources")
    assert record == {
        "source": "Gaji ASN",
        "record_id": "ASN-1",
        "delivered_on": "2026-05-02",
        "file_name": "asn.csv",
        "fields": "full_name",
        "attributes": "CATATAN=-; GOLONGAN=III/b",
    }
    flags = {f["person"]: f for f in rows(data, "flags")}
    assert flags["Anda"]["kind"] == "Tercatat sebagai ASN/pegawai"
    assert flags["Anda"]["detail"] == "asn ASN-1"
    assert flags["Istri/suami"]["detail"] == ""  # the spouse's own record stays hers
    assert "ASN-2" not in export.render_json(data).decode()


def test_the_processing_record_shows_who_opened_the_data_by_role_and_why(
    client, family, bandung_operator
):
    from tepat.registry.selectors import person_reveal

    person_reveal(
        user=bandung_operator, person=family.head, request=None, purpose="verifikasi usul desa"
    )
    signed_in(client, family.head)
    client.get("/akun/data-saya/")
    data = export.subject_export(person=family.head, requested_by="warga")
    accesses = rows(data, "accesses")
    reveal = next(a for a in accesses if a["purpose"] == "verifikasi usul desa")
    assert reveal["action"] == "Data lengkap Anda (NIK, HP, rekening) dibuka petugas"
    assert reveal["by"] == "Operator"
    assert any(a["action"] == "Salinan data dibuka di portal" for a in accesses)
    assert any(a["action"] == "Keluarga didaftarkan" for a in accesses)
    assert "op_bandung" not in export.render_json(data).decode()


def test_every_section_has_an_english_key_an_indonesian_title_and_typed_columns(data):
    assert data["schema"] == "tepat.subject-export"
    assert data["schema_version"] == 1
    assert data["generated_at"].endswith("+00:00")
    assert data["sections"]["payments"]["title"] == "Pembayaran"
    assert data["sections"]["subject"]["title"] == "Data diri Anda"
    for key, section in data["sections"].items():
        assert key.isascii()
        assert key == key.lower()
        assert section["title"]
        assert section["description"]
        for row in section["rows"]:
            assert {c["key"] for c in section["columns"]} <= set(row)
        assert {c["type"] for c in section["columns"]} <= {
            "text", "money", "date", "datetime", "bool", "number", "changes",
        }  # fmt: skip


def test_a_staff_member_asking_is_printed_by_username(family, bandung_operator):
    data = export.subject_export(person=family.head, requested_by=bandung_operator)
    assert data["requested_by"] == "op_bandung"
    json.dumps(data)


# --- what the copy leaves out -------------------------------------------------------------------


def test_another_household_never_appears_in_any_format(family, data):
    neighbour = family.neighbour
    for fmt, text in every_format(data).items():
        for secret in (
            family.neighbour_nik,
            NEIGHBOUR_NAME,
            NEIGHBOUR_SECRET,
            neighbour.public_id,
            neighbour.household.public_id,
            family.neighbour_payment_ref,
            family.neighbour_complaint_code,
            "9988776655",
        ):
            assert secret not in text, f"{secret!r} leaked into the {fmt} export"


def test_other_members_show_only_name_relationship_and_age(family, data):
    members = {m["relationship"]: m for m in rows(data, "members")}
    assert set(members) == {"Kepala keluarga", "Istri/suami", "Anak"}
    spouse = members["Istri/suami"]
    assert spouse == {
        "full_name": "Siti Nurhaliza",
        "relationship": "Istri/suami",
        "age": spouse["age"],
        "deceased": False,
        "is_you": False,
    }
    for fmt, text in every_format(data).items():
        # The spouse's NIK, her birth date and the child's.
        for secret in (family.spouse_nik, "1984-02-03", "03-02-1984", "2014-07-20"):
            assert secret not in text, f"{secret!r} in the {fmt} export"
    spouse_ref = family.household.members.get(relationship="spouse").public_id
    assert spouse_ref not in export.render_json(data).decode()
    theirs = [h for h in rows(data, "history") if h["about"] in ("Istri/suami", "Anak")]
    assert any(h["changes"] for h in theirs), "a member's change is in the history"
    for h in theirs:
        for change in h["changes"]:
            assert set(change) == {"field", "label"}


def test_the_copy_never_names_staff(data, bandung_operator, supervisor, admin_user):
    text = export.render_json(data).decode()
    for user in (bandung_operator, supervisor, admin_user):
        assert user.username not in text


# --- formats ----------------------------------------------------------------------------------


def test_the_json_round_trips(data):
    blob = export.render_json(data)
    assert json.loads(blob) == data
    assert "Pembayaran" in blob.decode("utf-8")  # UTF-8, not \u escapes


def test_the_csv_zip_has_one_file_per_section_and_neutralises_formulas(family, data):
    blob = export.render_csv_zip(data)
    files = csv_files(blob)
    sections = list(data["sections"])
    assert sorted(files) == ["00-index.csv"] + [
        f"{n:02d}-{k}.csv" for n, k in enumerate(sections, start=1)
    ]
    complaints = files[f"{sections.index('complaints') + 1:02d}-complaints.csv"]
    header, (row,) = complaints[0], complaints[1:]
    description = row[header.index("description")]
    assert description == "'" + FORMULA + " nominal tahap 1 kurang"
    for name, table in files.items():
        for cells in table:
            for cell in cells:
                assert not cell.startswith(("=", "+", "@")), (name, cell)
    payments = files[f"{sections.index('payments') + 1:02d}-payments.csv"]
    assert payments[1][payments[0].index("amount")] == str(rows(data, "payments")[0]["amount"])
    subject = files["01-subject.csv"]
    assert ["nik", "NIK", family.nik] in subject
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        receipts = [n for n in zf.namelist() if n.startswith("tanda-terima/")]
        assert len(receipts) == 2
        assert json.loads(zf.read(receipts[0]))["checkpoint"]
        assert zf.read("01-subject.csv").startswith(b"\xef\xbb\xbf")


def test_the_pdf_is_a_readable_pdf_with_the_family_s_data(family, data):
    pdf = export.render_pdf(data, compress=False)
    assert pdf.startswith(b"%PDF-1.")
    assert pdf.rstrip().endswith(b"%%EOF")
    text = pdf_text(pdf)
    for expected in (
        "Salinan data pribadi Anda di Tepat",
        "Data diri Anda",
        "Pembayaran",
        family.nik,
        family.payment_ref,
        "Program Keluarga Harapan",
        "WIB",
    ):
        assert expected in text, expected
    assert export.render_pdf(data).startswith(b"%PDF-")  # compressed, as served


def test_the_pdf_falls_back_to_core_fonts_where_dejavu_is_absent(family, data, settings, tmp_path):
    settings.TEPAT_PDF_FONT_DIR = str(tmp_path / "no-fonts")
    pdf = export.render_pdf(data, compress=False)
    assert b"/BaseFont /Helvetica" in pdf
    assert family.nik in pdf_text(pdf)


@pytest.mark.parametrize("fonts", ["dejavu", "core"])
def test_a_name_outside_latin1_never_breaks_the_pdf(family, data, settings, tmp_path, fonts):
    if fonts == "core":
        settings.TEPAT_PDF_FONT_DIR = str(tmp_path / "no-fonts")
    elif export._font_files() is None:
        pytest.skip("DejaVu Sans is not installed here")
    name = "Nguy\u1ec5n Th\u1ecb \u1e24asan \u674e \u0141ukasz"  # 李: in neither font
    data["subject"]["full_name"] = name
    rows(data, "subject")[0]["full_name"] = name
    pdf = export.render_pdf(data, compress=False)
    text = pdf_text(pdf)
    if fonts == "core":
        assert "Nguyen Thi Hasan ? Lukasz" in text
    else:
        assert "Nguy\u1ec5n Th\u1ecb \u1e24asan ? \u0141ukasz" in text


def test_latin1_safe_keeps_latin1_and_reduces_the_rest():
    assert (
        export.latin1_safe("Jos\u00e9 \u1e24asan \u0141 \u674e \u2192") == "Jos\u00e9 Hasan L ? ->"
    )


def test_the_page_shows_every_section(data):
    html = str(export.render_html(data))
    for section in data["sections"].values():
        assert section["title"] in html
    assert "Rp" in html
    assert "WIB" in html


# --- the citizen's pages ----------------------------------------------------------------------


def signed_in(client: Any, person: Any) -> Any:
    """A client whose session holds the citizen, as the one-time code step leaves it (the sign-in
    itself is tested in tests/portal and, end to end, in the browser test)."""
    from tepat.portal.views import SESSION_CITIZEN

    session = client.session
    session[SESSION_CITIZEN] = person.public_id
    session.save()
    return client


def test_data_saya_is_linked_from_the_account_page_and_shows_the_copy(client, family):
    signed_in(client, family.head)
    account = client.get("/akun/").content.decode()
    assert 'href="/akun/data-saya/"' in account
    r = client.get("/akun/data-saya/")
    assert r.status_code == 200
    assert "no-store" in r["Cache-Control"]
    html = r.content.decode()
    assert family.nik in html
    assert family.payment_ref in html
    for fmt in ("pdf", "json", "csv"):
        assert f'href="/akun/data-saya/unduh/{fmt}/"' in html
    assert NEIGHBOUR_NAME not in html
    event = AuditEvent.objects.get(action="privacy.export_view")
    assert event.target_id == family.head.public_id
    assert event.detail["records"] > 10


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension"),
    [("json", "application/json", "json"), ("csv", "application/zip", "zip"),
     ("pdf", "application/pdf", "pdf")],
)  # fmt: skip
def test_a_download_is_an_unstored_attachment_that_names_nobody(
    client, family, fmt, content_type, extension
):
    signed_in(client, family.head)
    r = client.get(f"/akun/data-saya/unduh/{fmt}/")
    assert r.status_code == 200
    assert r["Content-Type"] == content_type
    assert "no-store" in r["Cache-Control"]
    disposition = r["Content-Disposition"]
    assert disposition.startswith('attachment; filename="data-saya-tepat-')
    assert disposition.endswith(f'.{extension}"')
    for identifying in (family.nik, family.head.public_id, "Asep", "Sunandar"):
        assert identifying not in disposition
    audited = AuditEvent.objects.get(action="privacy.export")
    assert audited.target_id == family.head.public_id
    assert audited.detail["format"] == fmt
    assert audited.region_code == family.household.village_id
    answered = AuditEvent.objects.get(action="privacy.access_answered")
    assert answered.detail["channel"] == "portal"


def test_the_json_download_is_the_signed_in_family_s_and_no_one_else_s(client, family):
    signed_in(client, family.neighbour)
    data = json.loads(client.get("/akun/data-saya/unduh/json/").content)
    assert data["subject"]["public_id"] == family.neighbour.public_id
    assert rows(data, "payments")[0]["payment"] == family.neighbour_payment_ref
    text = json.dumps(data)
    assert family.nik not in text
    assert family.payment_ref not in text
    assert family.complaint_code not in text


def test_data_saya_needs_a_signed_in_citizen(client, family):
    for path in ("/akun/data-saya/", "/akun/data-saya/unduh/json/"):
        r = client.get(path)
        assert r.status_code == 302
        assert r["Location"] == "/akun/masuk/"
    assert not AuditEvent.objects.filter(action__startswith="privacy.").exists()


def test_an_unknown_format_is_not_found(client, family):
    signed_in(client, family.head)
    assert client.get("/akun/data-saya/unduh/xlsx/").status_code == 404


def test_copies_are_limited_per_citizen_per_hour(client, family, settings):
    settings.TEPAT_PRIVACY_EXPORT_PER_HOUR = 2
    signed_in(client, family.head)
    assert client.get("/akun/data-saya/").status_code == 200
    assert client.get("/akun/data-saya/unduh/json/").status_code == 200
    refused = client.get("/akun/data-saya/unduh/pdf/")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert AuditEvent.objects.filter(action="privacy.export").count() == 1
