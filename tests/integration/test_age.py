"""A survey states the household head's age, not the birth date: it is validated on import and
becomes a birth year for linkage."""

from __future__ import annotations

import datetime as dt

from tepat.integration.golden import loading as golden
from tepat.integration.importing import import_file
from tepat.integration.models import ImportRun, StagedRecord

SURVEY = "source_record_id,KODE_DESA,NIK_KRT,NAMA_KRT,KRT_JK,KRT_UMUR"


def _survey(*rows: str, delivered_on: dt.date | None = None) -> ImportRun:
    data = "\n".join((SURVEY, *rows)).encode("utf-8")
    return import_file(
        acting_user=None,
        source_key="dtsen",
        file_name="survey.csv",
        data=data,
        delivered_on=delivered_on,
    ).run


def test_the_heads_age_is_kept_and_an_impossible_age_is_quarantined(sources):
    run = _survey(
        "S-1,3273011001,3273011205800001,ASEP SUNANDAR,M,46",
        "S-2,3273011001,,NENG,F,empat puluh",
        "S-3,3273011001,,UJANG,M,150",
        "S-4,3273011001,,DEDI,M,",
        "S-5,3273011001,,ENTIS,M,-3",
    )
    assert (run.accepted_rows, run.rejected_rows) == (2, 3)
    assert dict(StagedRecord.objects.values_list("record_id", "age")) == {"S-1": 46, "S-4": None}
    reasons = {q.row_number: (q.field, q.code) for q in run.quarantine.all()}
    assert reasons == {
        3: ("KRT_UMUR", "invalid_age"),
        4: ("KRT_UMUR", "invalid_age"),
        6: ("KRT_UMUR", "invalid_age"),
    }
    assert "KRT_UMUR" not in StagedRecord.objects.get(record_id="S-1").attrs


def test_linkage_reads_the_birth_year_an_age_implies_on_the_delivery_date(sources):
    _survey(
        "S-1,3273011001,,NENG,F,46", "S-2,3273011001,,DEDI,M,", delivered_on=dt.date(2025, 3, 1)
    )
    frame, _ = golden._load_records()
    years = dict(zip(frame["unique_id"], frame["birth_year"], strict=True))
    assert years == {"dtsen:S-1": "1979", "dtsen:S-2": ""}
