from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from tepat.core.errors import NotFound
from tepat.integration.importing import import_file, quarantine_raw
from tepat.integration.models import ImportRun, QuarantinedRow, StagedRecord
from tepat.integration.services import quarantine_resubmit

HEADER = "source_record_id,NIK,NAMA,TGL_LAHIR,JK,HUB_KELUARGA,ALAMAT,KD_DESA,SEGMEN,KELAS,STATUS"
GOOD = "B-1,3273011205800001,ASEP SUNANDAR,1980-05-12,L,KEPALA,JL. MERDEKA 1,3273011001,PBI,3,AKTIF"
SCIENTIFIC = "B-2,3.27301E+15,SITI AMINAH,1984-02-03,P,ISTRI,JL. MERDEKA 1,3273011001,PBI,3,AKTIF"
BAD_DATE = "B-3,3273012007140001,DEDI,2014-02-31,L,ANAK,JL. MERDEKA 1,3273011001,PBI,3,AKTIF"
BAD_REGION = "B-4,3273014302840001,NENG,1984-02-03,P,ISTRI,JL. SUKA 2,9912345678,PBI,3,AKTIF"
BAD_NIK = "B-5,32730112058,UJANG,1980-05-12,L,KEPALA,JL. SUKA 2,3273011001,PBI,3,AKTIF"


def _csv(*lines: str, sep: str = ",") -> bytes:
    return "\n".join(line.replace(",", sep) for line in (HEADER, *lines)).encode("utf-8")


def _import(data: bytes, name: str = "bpjs.csv", source: str = "bpjs") -> ImportRun:
    return import_file(acting_user=None, source_key=source, file_name=name, data=data).run


def test_it_accepts_good_rows_and_quarantines_each_bad_row_with_row_field_and_reason(sources):
    run = _import(_csv(GOOD, SCIENTIFIC, BAD_DATE, BAD_REGION, BAD_NIK))
    assert run.status == "done"
    assert (run.accepted_rows, run.rejected_rows) == (1, 4)
    reasons = {q.row_number: (q.field, q.code) for q in run.quarantine.all()}
    assert reasons == {
        3: ("NIK", "scientific_notation"),
        4: ("TGL_LAHIR", "impossible_date"),
        5: ("KD_DESA", "unknown_region"),
        6: ("NIK", "length"),
    }


def test_it_stores_no_nik_in_clear_in_staging_or_quarantine(sources):
    _import(_csv(GOOD, BAD_NIK))
    rec = StagedRecord.objects.get()
    assert "3273011205800001" not in rec.nik_enc
    assert len(rec.nik_index) == 32
    q = QuarantinedRow.objects.get()
    assert "32730112058" not in q.raw_enc
    assert "32730112058" not in q.reason
    assert quarantine_raw(q)["NIK"] == "32730112058"


def test_reimporting_the_same_file_is_a_no_op(sources):
    data = _csv(GOOD, BAD_DATE)
    first = import_file(acting_user=None, source_key="bpjs", file_name="a.csv", data=data)
    again = import_file(acting_user=None, source_key="bpjs", file_name="b.csv", data=data)
    assert again.duplicate
    assert again.run.pk == first.run.pk
    assert StagedRecord.objects.count() == 1
    assert ImportRun.objects.count() == 1


def test_it_reads_latin1_with_semicolons_and_utf8_with_bom(sources):
    latin = _csv(GOOD.replace("ASEP SUNANDAR", "JOSÉ"), sep=";").decode().encode("latin-1")
    run = _import(latin, "latin.csv")
    assert run.accepted_rows == 1
    assert StagedRecord.objects.get(run=run).full_name == "JOSÉ"
    bom = b"\xef\xbb\xbf" + _csv(GOOD.replace("B-1", "B-9"))
    run2 = _import(bom, "bom.csv")
    assert run2.accepted_rows == 1


def test_it_quarantines_garbled_characters_as_bad_encoding(sources):
    garbled = GOOD.replace("ASEP SUNANDAR", "JOSÃ‰")
    run = _import(_csv(garbled))
    q = run.quarantine.get()
    assert q.code == "bad_encoding"


def test_it_reads_excel_and_refuses_a_nik_stored_as_a_number(sources):
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER.split(","))
    ws.append(GOOD.split(","))
    row = SCIENTIFIC.split(",")
    row[1] = 3273014302840001  # a number cell: the spreadsheet keeps 15 significant digits
    ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    run = _import(buf.getvalue(), "bpjs.xlsx")
    assert (run.accepted_rows, run.rejected_rows) == (1, 1)
    assert run.quarantine.get().code in ("spreadsheet_number", "scientific_notation")


def test_it_reads_json_lines(sources):
    data = (
        b'{"source_record_id": "J-1", "NIK": "3273011205800001", "NAMA": "ASEP", '
        b'"TGL_LAHIR": "1980-05-12", "JK": "L", "KD_DESA": "3273011001"}\nnot json\n'
    )
    run = _import(data, "bpjs.jsonl")
    assert (run.accepted_rows, run.rejected_rows) == (1, 1)
    assert run.quarantine.get().code == "bad_json"


def test_a_crash_while_applying_leaves_no_half_import(sources, monkeypatch):
    from tepat.integration import importing

    def boom(run, c):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importing, "_quarantined", boom)
    with pytest.raises(RuntimeError):
        _import(_csv(GOOD, BAD_DATE))
    assert StagedRecord.objects.count() == 0
    run = ImportRun.objects.get()
    assert run.status == "failed"
    assert "disk full" in run.error


def test_corrected_rows_can_be_resubmitted_and_leave_the_quarantine(sources):
    run = _import(_csv(GOOD, BAD_DATE, BAD_REGION))
    q_date = run.quarantine.get(code="impossible_date")
    result = quarantine_resubmit(
        acting_user=None, run=run, corrections={q_date.pk: {"TGL_LAHIR": "2014-02-28"}}
    )
    assert result.run.resubmission_of == run
    assert result.run.accepted_rows == 1
    q_date.refresh_from_db()
    assert q_date.status == "resubmitted"
    assert run.quarantine.get(code="unknown_region").status == "open"
    assert StagedRecord.objects.filter(record_id="B-3").exists()


def test_a_new_delivery_supersedes_the_same_records(sources):
    _import(_csv(GOOD))
    _import(_csv(GOOD.replace("ASEP SUNANDAR", "ASEP SUNANDAR SE")), "bpjs-2.csv")
    assert StagedRecord.objects.filter(record_id="B-1").count() == 2
    assert StagedRecord.objects.get(record_id="B-1", current=True).full_name == "ASEP SUNANDAR SE"


def test_it_refuses_an_unknown_source(sources):
    with pytest.raises(NotFound):
        _import(_csv(GOOD), source="nope")


def test_an_import_whose_process_died_is_marked_failed_and_can_be_uploaded_again(sources, settings):
    """A killed import (no progress for longer than the setting) stops counting as running;
    it applied nothing, and the same file imports again."""
    import datetime as dt

    from django.utils import timezone

    from tepat.core.models import AuditEvent
    from tepat.integration.importing import INTERRUPTED, import_run_create, import_runs_reap_stale

    data = _csv(GOOD)
    dead = import_run_create(
        acting_user=None, source_key="bpjs", file_name="bpjs.csv", data=data
    ).run
    ImportRun.objects.filter(pk=dead.pk).update(
        status=ImportRun.Status.RUNNING,
        heartbeat_at=timezone.now() - dt.timedelta(minutes=11),
        processed_rows=0,
    )
    fresh = import_run_create(acting_user=None, source_key="bpjs", file_name="x.csv", data=b"x")
    ImportRun.objects.filter(pk=fresh.run.pk).update(
        status=ImportRun.Status.RUNNING, heartbeat_at=timezone.now()
    )
    # The next upload found the dead run and marked it.
    assert import_runs_reap_stale() == 0
    dead.refresh_from_db()
    assert dead.status == "failed"
    assert dead.error == INTERRUPTED
    assert not StagedRecord.objects.filter(run=dead).exists()
    assert AuditEvent.objects.filter(
        action="integration.import_interrupted", target_id=dead.public_id
    ).exists()
    assert ImportRun.objects.get(pk=fresh.run.pk).status == "running"  # still alive
    settings.TEPAT_IMPORT_STALE_SECONDS = 0
    assert import_runs_reap_stale(now=timezone.now() + dt.timedelta(seconds=1)) == 1

    again = import_file(acting_user=None, source_key="bpjs", file_name="bpjs.csv", data=data)
    assert not again.duplicate
    assert again.run.status == "done"


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("1-2-1990", "%d-%m-%Y"),
        ("01/12/1990", "%d/%m/%Y"),
        ("19901201", "%Y%m%d"),
        ("31-02-1990", "%d-%m-%Y"),
        ("1-2-90", "%d-%m-%Y"),
        ("001-02-1990", "%d-%m-%Y"),
        ("01 Jan 1990", "%d %b %Y"),
    ],
)
def test_the_fast_date_parser_agrees_with_strptime(text, fmt):
    import datetime as dt

    from tepat.integration.importing import _strptime

    try:
        expected = dt.datetime.strptime(text, fmt).date()
    except ValueError:
        expected = None
    try:
        got = _strptime(text, fmt)
    except ValueError:
        got = None
    assert got == expected
