"""Predictions out (issue 19, item 13): a model's out-of-fold predictions and a scoring run's
household scores as files (CSV, Parquet), pages and API, only within the caller's regions,
every export audited, no names or NIK."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.template.loader import render_to_string

from tepat.core.errors import NotFound, PermissionDenied, TepatError
from tepat.core.models import AuditEvent
from tepat.registry.models import Household
from tepat.targeting import exports, services
from tepat.targeting.models import HouseholdScore, PmtModel, ScoringRun
from tests.conftest import BOGOR_VILLAGE

from .conftest import register_households

SCORE_HEADER = [
    "household_public_id", "village_code", "score", "desil_national", "desil_regional",
]  # fmt: skip


@pytest.fixture
def scored(db: Any, regions: None, survey_csv: Path, spec_toml: Path) -> dict[str, Any]:
    households = register_households(12) + register_households(8, village=BOGOR_VILLAGE, start=20)
    model = services.pmt_calibrate(acting_user=None, survey_path=survey_csv, spec_path=spec_toml)
    run = services.scoring_run(acting_user=None, model=model)
    return {"households": households, "model": model, "run": run}


def read_csv(path_or_text: Path | str) -> list[dict[str, str]]:
    text = path_or_text.read_text() if isinstance(path_or_text, Path) else path_or_text
    return list(csv.DictReader(io.StringIO(text)))


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- out-of-fold predictions --------------------------------------------------------------------


def test_the_command_writes_every_out_of_fold_prediction_as_csv_and_parquet(
    scored: dict[str, Any], tmp_path: Path, capsys: Any
) -> None:
    model: PmtModel = scored["model"]
    saved = model.predictions
    n = len(saved["row"])
    assert n == model.training_summary["rows_used"] == 600
    call_command("pmt", "export-predictions", "1", "--out", str(tmp_path / "p.csv"))
    call_command("pmt", "export-predictions", "1", "--out", str(tmp_path / "p.parquet"))
    assert "600" in capsys.readouterr().out
    rows = read_csv(tmp_path / "p.csv")
    assert list(rows[0]) == ["row", "fold", "outcome", "poor", "score", "weight"]
    assert [int(r["row"]) for r in rows] == saved["row"]
    assert [float(r["score"]) for r in rows] == pytest.approx(saved["score"])
    table = pq.read_table(tmp_path / "p.parquet")
    assert table.num_rows == n
    assert table.column("fold").to_pylist() == saved["fold"]
    assert table.column("poor").to_pylist() == [int(v) for v in saved["poor"]]
    assert table.column("outcome").to_pylist() == pytest.approx(saved["outcome"])
    audited = events("targeting.export_predictions")
    assert [(e.target_id, e.detail["rows"], e.detail["format"]) for e in audited] == [
        ("1", 600, "csv"),
        ("1", 600, "parquet"),
    ]


def test_an_operator_may_not_export_predictions(
    scored: dict[str, Any], bandung_operator: Any, staff_client: Any, tmp_path: Path
) -> None:
    with pytest.raises(CommandError, match="admins, supervisors and auditors"):
        call_command(
            "pmt", "export-predictions", "1", "--out", str(tmp_path / "p.csv"),
            "--user", "op_bandung",
        )  # fmt: skip
    assert not (tmp_path / "p.csv").exists()
    c = staff_client(bandung_operator)
    assert c.get("/targeting/model/1/prediksi.csv").status_code == 403
    assert c.get("/api/targeting/models/1/predictions").status_code == 403
    assert not events("targeting.export_predictions")


def test_an_auditor_reads_predictions_page_by_page_through_the_api(
    scored: dict[str, Any], auditor: Any, staff_client: Any
) -> None:
    c = staff_client(auditor)
    r = c.get("/api/targeting/models/1/predictions?limit=10&offset=595")
    assert r.status_code == 200
    body = r.json()
    assert (body["model_version"], body["count"], body["offset"]) == (1, 600, 595)
    assert [i["row"] for i in body["items"]] == scored["model"].predictions["row"][595:]
    assert set(body["items"][0]) == {"row", "fold", "outcome", "poor", "score", "weight"}
    for bad in ("limit=0", "limit=1001", "offset=-1", "limit=x"):
        assert c.get(f"/api/targeting/models/1/predictions?{bad}").status_code == 422, bad
    assert c.get("/api/targeting/models/9/predictions").status_code == 404
    [e] = events("targeting.export_predictions")
    assert (e.actor, e.detail["rows"]) == (auditor, 5)


def test_the_page_streams_predictions_to_a_supervisor(
    scored: dict[str, Any], supervisor: Any, staff_client: Any
) -> None:
    r = staff_client(supervisor).get("/targeting/model/1/prediksi.csv")
    assert r.status_code == 200
    assert r.streaming
    assert r["Content-Type"].startswith("text/csv")
    assert "pmt-v1-prediksi-oof.csv" in r["Content-Disposition"]
    rows = read_csv(b"".join(r.streaming_content).decode())
    assert len(rows) == 600


def test_a_model_saved_without_predictions_says_to_recalibrate(
    scored: dict[str, Any], admin_user: Any, staff_client: Any, tmp_path: Path
) -> None:
    PmtModel.objects.filter(version=1).update(predictions={})
    r = staff_client(admin_user).get("/api/targeting/models/1/predictions")
    assert r.status_code == 404
    assert "recalibrate" in r.json()["message"]
    with pytest.raises(CommandError, match="recalibrate"):
        call_command("pmt", "export-predictions", "1", "--out", str(tmp_path / "p.csv"))


def test_the_model_card_include_links_the_exports_for_those_who_may(
    scored: dict[str, Any], supervisor: Any, bandung_operator: Any
) -> None:
    model = scored["model"]
    shown = render_to_string("targeting/_exports.html", {"model": model, "user": supervisor})
    assert "/targeting/model/1/prediksi.csv" in shown
    assert "/api/targeting/models/1/predictions" in shown
    hidden = render_to_string("targeting/_exports.html", {"model": model, "user": bandung_operator})
    assert "prediksi.csv" not in hidden


def test_an_export_file_must_be_csv_or_parquet(scored: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"\.csv or \.parquet"):
        call_command("pmt", "export-predictions", "1", "--out", str(tmp_path / "p.xlsx"))


# --- registry scores ----------------------------------------------------------------------------


def test_the_command_exports_every_household_score_without_names_or_nik(
    scored: dict[str, Any], tmp_path: Path
) -> None:
    run: ScoringRun = scored["run"]
    call_command("pmt", "export-scores", run.public_id, "--out", str(tmp_path / "s.csv"))
    call_command("pmt", "export-scores", run.public_id, "--out", str(tmp_path / "s.parquet"))
    rows = read_csv(tmp_path / "s.csv")
    assert list(rows[0]) == SCORE_HEADER
    stored = {
        h.public_id: (h.village_id, s.score, s.desil_national, s.desil_regional)
        for s in HouseholdScore.objects.filter(run=run).select_related("household")
        for h in [s.household]
    }
    assert {
        r["household_public_id"]: (
            r["village_code"], float(r["score"]), int(r["desil_national"]),
            int(r["desil_regional"]),
        )
        for r in rows
    } == stored  # fmt: skip
    table = pq.read_table(tmp_path / "s.parquet")
    assert table.column_names == SCORE_HEADER
    assert sorted(table.column("household_public_id").to_pylist()) == sorted(stored)
    text = (tmp_path / "s.csv").read_text()
    assert "Kepala" not in text  # no names
    assert "1205800001" not in text  # no NIK (district + birth date + serial)
    audited = events("targeting.export_scores")
    assert [(e.detail["records"], e.detail["scope"], e.detail["format"]) for e in audited] == [
        (20, ["nasional"], "csv"),
        (20, ["nasional"], "parquet"),
    ]


def test_a_bandung_operator_exports_only_bandung_households(
    scored: dict[str, Any], bandung_operator: Any, tmp_path: Path
) -> None:
    run = scored["run"]
    call_command(
        "pmt", "export-scores", run.public_id, "--out", str(tmp_path / "s.parquet"),
        "--user", "op_bandung",
    )  # fmt: skip
    villages = pq.read_table(tmp_path / "s.parquet").column("village_code").to_pylist()
    assert len(villages) == 12
    assert {v[:4] for v in villages} == {"3273"}
    [e] = events("targeting.export_scores")
    assert (e.actor, e.region_code, e.detail["records"]) == (bandung_operator, "3273", 12)
    assert (e.target_type, e.target_id, e.detail["scope"]) == (
        "scoring_run",
        run.public_id,
        ["3273"],
    )


def test_a_supervisor_narrows_the_export_to_one_region_of_their_scope(
    scored: dict[str, Any], supervisor: Any, tmp_path: Path
) -> None:
    run = scored["run"]
    scope, n = exports.scores_export(
        acting_user=supervisor, run=run, out=tmp_path / "s.csv", region="3201"
    )
    assert (scope.codes, scope.region, n) == (["32"], "3201", 8)
    assert {r["village_code"] for r in read_csv(tmp_path / "s.csv")} == {BOGOR_VILLAGE}
    [e] = events("targeting.export_scores")
    assert (e.region_code, e.detail["region"]) == ("3201", "3201")


def test_a_region_outside_the_callers_scope_is_not_found(
    scored: dict[str, Any], bandung_operator: Any, staff_client: Any, tmp_path: Path
) -> None:
    run = scored["run"]
    with pytest.raises(NotFound):
        exports.scores_export(
            acting_user=bandung_operator, run=run, out=tmp_path / "s.csv", region="3201"
        )
    assert not (tmp_path / "s.csv").exists()
    c = staff_client(bandung_operator)
    assert (
        c.get(f"/api/targeting/scoring-runs/{run.public_id}/scores?region=3201").status_code == 404
    )
    assert c.get(f"/targeting/skoring/{run.public_id}/skor.csv?region=3201").status_code == 404
    # A region covering the operator's scope gives their part of it, nothing more.
    r = c.get(f"/api/targeting/scoring-runs/{run.public_id}/scores?region=32")
    assert r.json()["count"] == 12
    assert [e.detail["records"] for e in events("targeting.export_scores")] == [12]


def test_a_malformed_region_or_an_unknown_run_is_refused(
    scored: dict[str, Any], admin_user: Any, staff_client: Any
) -> None:
    run = scored["run"]
    c = staff_client(admin_user)
    r = c.get(f"/api/targeting/scoring-runs/{run.public_id}/scores?region=32x")
    assert r.status_code == 400
    assert r.json()["field"] == "region"
    assert c.get("/api/targeting/scoring-runs/nope/scores").status_code == 404
    assert c.get("/targeting/skoring/nope/skor.csv").status_code == 404


def test_field_agents_may_not_export_scores(
    scored: dict[str, Any], field_agent: Any, staff_client: Any
) -> None:
    run = scored["run"]
    c = staff_client(field_agent)
    assert c.get(f"/targeting/skoring/{run.public_id}/skor.csv").status_code == 403
    assert c.get(f"/api/targeting/scoring-runs/{run.public_id}/scores").status_code == 403
    with pytest.raises(PermissionDenied):
        exports.scores_scope(user=field_agent)


def test_the_page_streams_an_operators_scores_as_csv(
    scored: dict[str, Any], bandung_operator: Any, staff_client: Any
) -> None:
    run = scored["run"]
    c = staff_client(bandung_operator)
    page = c.get("/targeting/skoring/").content.decode()
    assert f"/targeting/skoring/{run.public_id}/skor.csv" in page
    r = c.get(f"/targeting/skoring/{run.public_id}/skor.csv")
    assert r.status_code == 200
    assert r.streaming
    rows = read_csv(b"".join(r.streaming_content).decode())
    assert len(rows) == 12
    assert {row["village_code"][:4] for row in rows} == {"3273"}
    [e] = events("targeting.export_scores")
    assert (e.detail["records"], e.detail["format"], e.region_code) == (12, "csv", "3273")


def test_the_api_pages_through_scores_in_household_order(
    scored: dict[str, Any], supervisor: Any, staff_client: Any
) -> None:
    run = scored["run"]
    c = staff_client(supervisor)
    url = f"/api/targeting/scoring-runs/{run.public_id}/scores"
    first = c.get(f"{url}?limit=15").json()
    rest = c.get(f"{url}?limit=15&offset=15").json()
    assert (first["count"], len(first["items"]), len(rest["items"])) == (20, 15, 5)
    assert (first["run_public_id"], first["model_version"], first["scope"]) == (
        run.public_id, 1, ["32"],
    )  # fmt: skip
    ids = [i["household_public_id"] for i in first["items"] + rest["items"]]
    expected = list(
        Household.objects.filter(pmt_scores__run=run)
        .order_by("id")
        .values_list("public_id", flat=True)
    )
    assert ids == expected
    for bad in ("limit=0", "limit=1001", "offset=-1"):
        assert c.get(f"{url}?{bad}").status_code == 422, bad
    assert [e.detail["records"] for e in events("targeting.export_scores")] == [15, 5]


def test_scores_are_streamed_a_chunk_at_a_time(scored: dict[str, Any], tmp_path: Path) -> None:
    run = scored["run"]
    _, whole = exports.scores_export(acting_user=None, run=run, out=tmp_path / "a.parquet")
    _, chunked = exports.scores_export(
        acting_user=None, run=run, out=tmp_path / "b.parquet", chunk=3
    )
    assert whole == chunked == 20
    assert pq.read_table(tmp_path / "a.parquet").equals(pq.read_table(tmp_path / "b.parquet"))
    assert pq.ParquetFile(tmp_path / "b.parquet").num_row_groups == 7


def test_a_failed_export_leaves_no_half_written_file(
    scored: dict[str, Any], tmp_path: Path, monkeypatch: Any
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        yield [("x", "3273011001", 1.0, 1, 1)]
        raise TepatError("boom")

    monkeypatch.setattr(exports, "_score_rows", broken)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(TepatError):
        exports.scores_export(acting_user=None, run=scored["run"], out=out / "s.csv")
    assert list(out.iterdir()) == []


def test_an_offset_beyond_what_the_database_takes_is_a_422_not_a_500(
    scored: dict[str, Any], supervisor: Any, staff_client: Any
) -> None:
    c = staff_client(supervisor)
    huge = "99999999999999999999999"  # above 64 bits: the database refuses such an OFFSET
    for url in (
        f"/api/targeting/scoring-runs/{scored['run'].public_id}/scores?offset={huge}",
        f"/api/targeting/models/1/predictions?offset={huge}",
    ):
        r = c.get(url)
        assert r.status_code == 422, url
        assert "offset" in r.content.decode()
