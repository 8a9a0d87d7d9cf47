from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from tepat.core.errors import FieldProblem, NotFound
from tepat.core.gcpause import gc_paused
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


# The row checker's short paths (a NIK/KK whose date part was seen valid, a date text parsed
# before) must decide exactly as the general code: same value, same problems in the same order.

_NIKS = st.one_of(
    st.from_regex(r"[0-9]{16}", fullmatch=True),
    st.builds(
        lambda prov, rest, day, month, yy, serial: (
            f"{prov}{rest}{day:02d}{month:02d}{yy:02d}{serial:04d}"
        ),
        st.sampled_from(["32", "11", "96", "99", "00"]),
        st.sampled_from(["7301", "0101"]),
        # Few date parts, so that one number meets the answer cached for another.
        st.sampled_from([0, 1, 12, 29, 31, 32, 41, 69, 71]),
        st.sampled_from([0, 1, 2, 5, 12, 13]),
        st.sampled_from([0, 80, 99, dt.date.today().year % 100, dt.date.today().year % 100 + 1]),
        st.sampled_from([0, 1, 42]),
    ),
    st.sampled_from(
        [
            "3273011205800001",
            "3273011205800000",
            "3273 0112 0580 0001",
            "32.7301.1205800001",
            "3273-011205800001",
            "3.27301E+15",
            "327301120580001",
            "32730112058000011",
            "\u0663273011205800001",
            "\uff13273011205800001",
            "327301290200 0001",
            "3273012902010001",
            "3273016902000001",
            "3273013102900001",
            "ABCDEFGHIJKLMNOP",
        ]
    ),
    st.text(alphabet="0123456789 .-eE+x", max_size=20),
)
_DATES = st.one_of(
    st.builds(
        lambda d, m, y, sep: f"{d:02d}{sep}{m:02d}{sep}{y}",
        st.integers(0, 32),
        st.integers(0, 13),
        st.integers(1850, 2100),
        st.sampled_from(["-", "/", "."]),
    ),
    st.builds(
        lambda d, m, y: f"{y:04d}-{m:02d}-{d:02d}",
        st.integers(0, 32),
        st.integers(0, 13),
        st.integers(1850, 2100),
    ),
    st.sampled_from(
        ["1-2-1990", "1990-01-02T10:00", "19900102", "29-02-1900", "29-02-2000", "12-5-80", "x"]
    ),
    st.text(alphabet="0123456789-/ ", max_size=12),
)
# Checkers that live across examples, so that values meet warm caches as well as cold ones.
_WARM: dict[str, Any] = {}


def _config(key: str) -> dict[str, Any]:
    from tepat.integration.sources import BUILTIN_SOURCES, config_check

    return config_check(next(c for c in BUILTIN_SOURCES if c["key"] == key))


def _checker(key: str) -> Any:
    from tepat.integration.importing import RowChecker

    if key not in _WARM:
        _WARM[key] = RowChecker(_config(key), village_exists=lambda v: True, today=dt.date.today())
    return _WARM[key]


def _required(col: str) -> dict[str, Any]:
    return FieldProblem(col, "required", f"{col} wajib diisi / is required", 2).as_dict()


def _by_validator(validator: Any, text: str, col: str, today: dt.date) -> tuple:
    """What the general code makes of a NIK or KK: the validator, messages made safe."""
    from tepat.integration.importing import _safe

    if not text:
        return "", [], []
    value, problems = validator(text, field=col, row=2, today=today)
    for p in problems:
        p.message = _safe(p.message)
    return (
        value,
        [p.as_dict() for p in problems if p.severity == "error"],
        [p.as_dict() for p in problems if p.severity == "warning"],
    )


@settings(max_examples=400, deadline=None)
@given(nik=_NIKS, kk=_NIKS)
def test_the_row_checker_decides_niks_and_kks_as_the_validators_do(nik, kk):
    from tepat.core.reading import RawRow
    from tepat.registry.validators import validate_kk, validate_nik

    check = _checker("dukcapil")
    # Each number, then its siblings with the same date part (whose answer is now cached) but
    # an unknown province or a zero serial: the short path must not skip those checks.
    pairs = [(nik, kk), ("99" + nik[2:], "00" + kk[2:]), (nik[:12] + "0000", kk[:12] + "0000")]
    for nik, kk in pairs:
        values = {
            "source_record_id": "D-1",
            "NIK": nik,
            "NO_KK": kk,
            "NAMA_LGKP": "ASEP",
            "TGL_LHR": "12-05-1980",
            "KODE_DESA": "3273011001",
        }
        nik_v, nik_err, nik_warn = _by_validator(validate_nik, nik.strip(), "NIK", check.id_today)
        kk_v, kk_err, kk_warn = _by_validator(validate_kk, kk.strip(), "NO_KK", check.id_today)
        required = [] if nik.strip() else [_required("NIK")]
        for _ in range(2):  # the first call may fill a cache, the second may use it
            out, errors, warnings = check(RawRow(2, dict(values)))
            assert (out["nik"], out["kk"]) == (nik_v, kk_v)
            assert [p.as_dict() for p in errors] == required + nik_err + kk_err
            assert [p.as_dict() for p in warnings] == nik_warn + kk_warn
        numeric = check(RawRow(2, dict(values), numeric_cells={"NIK", "NO_KK"}))
        assert [p.code for p in numeric[1]] == [
            *(["required"] if not nik.strip() else ["spreadsheet_number"]),
            *(["spreadsheet_number"] if kk.strip() else []),
        ]


@settings(max_examples=400, deadline=None)
@given(born=_DATES, died=_DATES)
def test_the_row_checker_parses_dates_as_the_general_parser_does(born, died):
    from tepat.core.reading import RawRow
    from tepat.integration.importing import _parse_date

    check = _checker("dukcapil")
    expected: list[FieldProblem] = []
    formats = ["%d-%m-%Y"]
    born_v = _parse_date(born.strip(), formats, "TGL_LHR", 2, check.today, expected)
    died_v = _parse_date(died.strip(), formats, "TGL_MATI", 2, check.today, expected)
    required = [] if born.strip() else [_required("TGL_LHR")]
    values = {
        "source_record_id": "D-1",
        "NIK": "3273011205800001",
        "NAMA_LGKP": "ASEP",
        "TGL_LHR": born,
        "TGL_MATI": died,
        "KODE_DESA": "3273011001",
    }
    for _ in range(2):
        out, errors, _warnings = check(RawRow(2, dict(values)))
        assert (out["birth_date"], out["deceased_on"]) == (born_v, died_v)
        assert [p.as_dict() for p in errors] == required + [p.as_dict() for p in expected]


def test_check_row_keeps_attrs_in_the_order_each_row_delivers_them():
    from tepat.core.reading import RawRow
    from tepat.integration.importing import check_row

    check = _checker("pln")
    base = {"source_record_id": "P-1", "NAMA_PELANGGAN": "ASEP", "DAYA": "1300", "TARIF": "R1"}
    reordered = {"TARIF": "R1", "source_record_id": "P-1", "NAMA_PELANGGAN": "ASEP", "DAYA": ""}
    for values in (base, reordered, base, {**base, "EXTRA": "x"}):
        out, _, _ = check(RawRow(2, dict(values)))
        expected = {k: v for k, v in values.items() if k not in check.mapped and v != ""}
        assert list(out["attrs"].items()) == list(expected.items())
        alone, _, _ = check_row(
            RawRow(2, dict(values)),
            _config("pln"),
            village_exists=lambda v: True,
            today=check.today,
        )
        assert alone == out


def test_short_and_long_csv_rows_are_padded_or_cut_and_reported():
    from tepat.core.reading import read_csv

    data = "A,B,C\n1,2,3\n1,2\n1,2,3,4\n\n ,  , \n x , Ã ,z\n".encode()
    rows = list(read_csv(data))
    assert [r.number for r in rows] == [2, 3, 4, 7]
    assert [r.values for r in rows] == [
        {"A": "1", "B": "2", "C": "3"},
        {"A": "1", "B": "2", "C": ""},
        {"A": "1", "B": "2", "C": "3"},
        {"A": "x", "B": "Ã", "C": "z"},
    ]
    assert [[(p.field, p.code) for p in r.problems] for r in rows] == [
        [],
        [("*", "column_count")],
        [("*", "column_count")],
        [("B", "bad_encoding")],
    ]


def test_an_import_pauses_the_garbage_collector_and_gives_it_back(sources, monkeypatch):
    import gc

    from tepat.integration import importing

    seen = []
    real = importing.RowChecker.__call__

    def spy(self, row):
        seen.append(gc.isenabled())
        return real(self, row)

    monkeypatch.setattr(importing.RowChecker, "__call__", spy)
    assert gc.isenabled()
    _import(_csv(GOOD))
    assert seen == [False]
    assert gc.isenabled()

    def boom(run, c):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importing, "_quarantined", boom)
    with pytest.raises(RuntimeError):
        _import(_csv(GOOD.replace("B-1", "B-2"), BAD_DATE))
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            with gc_paused():
                pass
            assert not gc.isenabled()
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()
