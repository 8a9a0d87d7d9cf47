"""Community rankings (musyawarah desa): import with reasons for every row set aside, region
scope, audit, and the PMT / community / hybrid comparison through the command line, the page
and the API."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tepat.accounts.models import Role
from tepat.core.errors import NotFound, PermissionDenied, ValidationFailed
from tepat.core.models import AuditEvent
from tepat.targeting import community, hybrid
from tepat.targeting.community import ImportColumns
from tepat.targeting.models import (
    CommunityRanking,
    CommunityRankingImport,
    HouseholdScore,
    PmtModel,
    ScoringRun,
    TruthConsumption,
)
from tests.conftest import BANDUNG_VILLAGE, BOGOR_VILLAGE, make_staff

from .conftest import register_households

GEGERKALONG = "3273011002"


def kk(village: str, serial: int) -> str:
    """The No. KK `register_households` gives household `serial` (tests/registry/conftest)."""
    return f"{village[:6]}150315{serial:04d}"


@pytest.fixture
def homes(db: Any, regions: None) -> dict[str, list[Any]]:
    """10 households in Sukarasa (serials 1-10), 10 in Gegerkalong (11-20), 5 in Bogor (21-25)."""
    return {
        BANDUNG_VILLAGE: register_households(10, village=BANDUNG_VILLAGE, start=1),
        GEGERKALONG: register_households(10, village=GEGERKALONG, start=11),
        BOGOR_VILLAGE: register_households(5, village=BOGOR_VILLAGE, start=21),
    }


@pytest.fixture
def run(homes: dict[str, list[Any]]) -> ScoringRun:
    """A finished scoring run whose PMT orders each village by serial (first = poorest), and the
    truth: in Sukarasa the poorest by consumption are serials 10, 9, 8 (the PMT is wrong there,
    the meeting in `rank_file` right); elsewhere the PMT is right."""
    model = PmtModel.objects.create(
        version=1, method="ols", spec={}, parameters={}, coefficients={}, metrics={},
        training_summary={},
    )  # fmt: skip
    r = ScoringRun.objects.create(model=model, status=ScoringRun.Status.DONE)
    serial = 0
    for village, hs in homes.items():
        for i, h in enumerate(hs):
            serial += 1
            HouseholdScore.objects.create(
                run=r, household=h, score=12.0 + 0.1 * i, desil_national=1 + i % 10,
                desil_regional=1 + i % 10,
            )  # fmt: skip
            poorest_last = village == BANDUNG_VILLAGE
            cons = 300_000 + 50_000 * ((len(hs) - 1 - i) if poorest_last else i)
            TruthConsumption.objects.create(household=h, consumption_pc=cons, source="test")
    return r


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def rank_file(tmp_path: Path) -> Path:
    """Sukarasa's full rank: serial 10 poorest, then 9, ..., 1; Gegerkalong ranks 11..20."""
    lines = ["kode_desa,no_kk,peringkat"]
    lines += [f"{BANDUNG_VILLAGE},{kk(BANDUNG_VILLAGE, s)},{11 - s}" for s in range(1, 11)]
    lines += [f"{GEGERKALONG},{kk(GEGERKALONG, s)},{s - 10}" for s in range(11, 21)]
    return write(tmp_path / "musdes.csv", "\n".join(lines) + "\n")


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- import ---------------------------------------------------------------------------------


def test_a_full_rank_is_imported_from_the_command_line_matched_by_kk(
    homes: Any, rank_file: Path
) -> None:
    out = io.StringIO()
    call_command("community", "import", str(rank_file), stdout=out)
    imp = CommunityRankingImport.objects.get()
    assert imp.kind == "rank"
    assert (imp.rows_read, imp.rows_used) == (20, 20)
    assert imp.villages == [BANDUNG_VILLAGE, GEGERKALONG]
    assert imp.region_code == "327301"
    assert imp.problems == []
    first = CommunityRanking.objects.get(rank=1, village_code=BANDUNG_VILLAGE)
    assert first.household == homes[BANDUNG_VILLAGE][9]
    assert first.row == 10
    assert "20 of 20 rows used, 2 villages" in out.getvalue()
    (event,) = events("targeting.community_import")
    assert event.target_id == imp.public_id
    assert event.detail["rows_used"] == 20
    assert event.detail["set_aside"] == {}


def test_every_row_set_aside_is_counted_with_its_row_number(homes: Any, tmp_path: Path) -> None:
    b, g = BANDUNG_VILLAGE, GEGERKALONG
    rows = [
        f"{b},{kk(b, 1)},1",  # 1 kept
        f"{b},{kk(b, 2)},2",  # 2 kept
        f"{b},3273011503159999,3",  # 3 kk_unknown
        f"{b},3.27E+15,4",  # 4 kk_invalid (a spreadsheet's number)
        f"{g},{kk(b, 3)},1",  # 5 village_mismatch: Sukarasa's household listed in Gegerkalong
        f"{b},{kk(b, 4)},5",  # 6 duplicate_household
        f"{b},{kk(b, 4)},6",  # 7 duplicate_household
        f"{b},{kk(b, 5)},2.5",  # 8 rank_not_integer
        f"{b},{kk(b, 6)},7",  # 9 rank_repeated
        f"{b},{kk(b, 7)},7",  # 10 rank_repeated
        f",{kk(b, 8)},8",  # 11 village_missing
        f"3273019999,{kk(b, 9)},9",  # 12 village_unknown
        f"{b},{kk(b, 10)},",  # 13 rank_missing
        f"32.73.01.1001,{kk(b, 3)},3",  # 14 kept: a dotted village code is read undotted
    ]
    path = write(tmp_path / "messy.csv", "kode_desa,no_kk,peringkat\n" + "\n".join(rows) + "\n")
    imp = community.community_import(acting_user=None, path=path)
    assert (imp.rows_read, imp.rows_used) == (14, 3)
    found = {p["code"]: (p["count"], p["rows"], p["severity"]) for p in imp.problems}
    assert found == {
        "village_missing": (1, [11], "error"),
        "village_unknown": (1, [12], "error"),
        "kk_invalid": (1, [4], "error"),
        "kk_unknown": (1, [3], "error"),
        "village_mismatch": (1, [5], "error"),
        "duplicate_household": (2, [6, 7], "error"),
        "rank_missing": (1, [13], "error"),
        "rank_not_integer": (1, [8], "error"),
        "rank_repeated": (2, [9, 10], "error"),
        # Sukarasa: 3 of 10 listed.
        "village_partial": (1, [], "warning"),
    }
    assert sum(c for c, _, s in found.values() if s == "error") + imp.rows_used == imp.rows_read
    assert (
        "7 rumah tangga"
        in next(p for p in imp.problems if p["code"] == "village_partial")["message"]
    )
    # Kept with their ranks; the gap (1, 2, 3 is whole here) is not flagged.
    assert sorted(CommunityRanking.objects.values_list("rank", flat=True)) == [1, 2, 3]


def test_gaps_in_a_rank_are_a_warning_and_the_order_is_kept(homes: Any, tmp_path: Path) -> None:
    b = BANDUNG_VILLAGE
    lines = [f"{b},{kk(b, s)},{10 * s}" for s in range(1, 11)]
    path = write(tmp_path / "gaps.csv", "kode_desa,no_kk,peringkat\n" + "\n".join(lines) + "\n")
    imp = community.community_import(acting_user=None, path=path)
    assert imp.rows_used == 10
    assert [p["code"] for p in imp.problems] == ["rank_gaps"]


def test_a_file_with_no_usable_row_is_refused_with_every_reason(homes: Any, tmp_path: Path) -> None:
    path = write(
        tmp_path / "bad.csv",
        f"kode_desa,no_kk,peringkat\n{BANDUNG_VILLAGE},3273011503159999,1\n"
        f"{BANDUNG_VILLAGE},{kk(BANDUNG_VILLAGE, 1)},satu\n",
    )
    with pytest.raises(CommandError) as exc:
        call_command("community", "import", str(path))
    text = str(exc.value)
    assert "kk_unknown" in text
    assert "rank_not_integer" in text
    assert "data rows 2" in text
    assert "no usable row among 2" in text
    assert not CommunityRankingImport.objects.exists()


def test_a_yes_no_list_with_other_columns_and_delimiter(homes: Any, tmp_path: Path) -> None:
    b = BANDUNG_VILLAGE
    text = "desa;kk;pilih;catatan\n" + "\n".join(
        [f"{b};{kk(b, 1)};ya;x", f"{b};{kk(b, 2)};Ya;", f"{b};{kk(b, 3)};tidak;",
         f"{b};{kk(b, 4)};mungkin;"]
    )  # fmt: skip
    path = write(tmp_path / "list.csv", text + "\n")
    out = io.StringIO()
    call_command(
        "community", "import", str(path), "--village-column", "desa", "--kk-column", "kk",
        "--selected-column", "pilih", "--delimiter", ";", stdout=out,
    )  # fmt: skip
    imp = CommunityRankingImport.objects.get()
    assert imp.kind == "selected"
    assert imp.columns == {"village": "desa", "kk": "kk", "selected": "pilih", "delimiter": ";"}
    chosen = dict(CommunityRanking.objects.values_list("household__public_id", "selected"))
    assert chosen == {
        homes[b][0].public_id: True,
        homes[b][1].public_id: True,
        homes[b][2].public_id: False,
    }
    assert "1 x selected_invalid" in out.getvalue()
    assert "(baris data / data rows 4)" in out.getvalue()


def test_households_may_be_named_by_their_public_id(homes: Any, tmp_path: Path) -> None:
    hs = homes[GEGERKALONG]
    text = "village,household,rank\n" + "\n".join(
        f"{GEGERKALONG},{h.public_id},{i + 1}" for i, h in enumerate(hs)
    )
    path = write(tmp_path / "ids.csv", text + "\n")
    imp = community.community_import(
        acting_user=None, path=path,
        columns=ImportColumns(village="village", household="household", rank="rank"),
    )  # fmt: skip
    assert imp.rows_used == 10
    assert imp.problems == []


def test_a_missing_column_is_named_with_the_file_s_columns(homes: Any, tmp_path: Path) -> None:
    path = write(tmp_path / "cols.csv", "desa,no_kk,peringkat\n3273011001,1,1\n")
    with pytest.raises(ValidationFailed) as exc:
        community.community_import(acting_user=None, path=path)
    assert exc.value.field == "village"
    assert "'kode_desa'" in exc.value.message
    assert "['desa', 'no_kk', 'peringkat']" in exc.value.message


@pytest.mark.parametrize(
    ("columns", "field"),
    [
        (ImportColumns(kk="no_kk", household="id"), "kk"),
        (ImportColumns(rank="peringkat", selected="terpilih"), "rank"),
        (ImportColumns(delimiter=":"), "delimiter"),
    ],
)
def test_conflicting_column_choices_are_refused(
    homes: Any, rank_file: Path, columns: ImportColumns, field: str
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        community.community_import(acting_user=None, path=rank_file, columns=columns)
    assert exc.value.field == field


def test_operators_and_auditors_may_not_import(
    homes: Any, rank_file: Path, bandung_operator: Any, auditor: Any
) -> None:
    for user in (bandung_operator, auditor):
        with pytest.raises(PermissionDenied):
            community.community_import(acting_user=user, path=rank_file)


def test_a_regional_supervisor_imports_only_villages_in_their_regions(
    homes: Any, tmp_path: Path
) -> None:
    spv = make_staff("spv_bandung", Role.SUPERVISOR, ("3273",))
    b = BANDUNG_VILLAGE
    text = "kode_desa,no_kk,peringkat\n" + "\n".join(
        [f"{b},{kk(b, 1)},1",
         f"{BOGOR_VILLAGE},{kk(BOGOR_VILLAGE, 21)},1",
         # A Bogor household listed under a Bandung village: "not in the registry" for this
         # supervisor, never "registered elsewhere" (no probing of other regions).
         f"{b},{kk(BOGOR_VILLAGE, 22)},2"]
    )  # fmt: skip
    imp = community.community_import(acting_user=spv, path=write(tmp_path / "f.csv", text))
    codes = {p["code"]: p["count"] for p in imp.problems}
    assert codes["village_out_of_scope"] == 1
    assert codes["kk_unknown"] == 1
    assert "village_mismatch" not in codes
    assert imp.villages == [b]
    (event,) = events("targeting.community_import")
    assert event.actor == spv
    assert event.region_code == b


def test_a_later_import_replaces_the_earlier_only_for_its_villages(
    homes: Any, rank_file: Path, tmp_path: Path
) -> None:
    first = community.community_import(acting_user=None, path=rank_file)
    b = BANDUNG_VILLAGE
    text = "kode_desa,no_kk,terpilih\n" + "\n".join(
        f"{b},{kk(b, s)},{'ya' if s <= 2 else 'tidak'}" for s in range(1, 11)
    )
    second = community.community_import(
        acting_user=None, path=write(tmp_path / "again.csv", text + "\n"),
        columns=ImportColumns(selected="terpilih"),
    )  # fmt: skip
    cov = {c.village_code: c for c in community.coverage(user=None)}
    assert cov[b].import_public_id == second.public_id
    assert (cov[b].ranked, cov[b].selected, cov[b].households) == (10, 2, 10)
    assert cov[GEGERKALONG].import_public_id == first.public_id
    assert cov[GEGERKALONG].selected is None
    ids = [h.pk for h in homes[b]] + [homes[GEGERKALONG][0].pk, homes[BOGOR_VILLAGE][0].pk]
    import numpy as np

    values = community.community_values(np.array(ids, dtype=np.int64))
    assert values[:3].tolist() == [0.0, 0.0, 1.0]  # chosen, chosen, not chosen
    assert values[10] == 1.0  # Gegerkalong's rank 1 from the first import
    assert np.isnan(values[11])  # Bogor: no deliberation


# --- reads: scope and audit -----------------------------------------------------------------


def test_reads_are_limited_to_the_reader_s_regions(
    homes: Any, rank_file: Path, bogor_operator: Any, bandung_operator: Any, field_agent: Any
) -> None:
    imp = community.community_import(acting_user=None, path=rank_file)
    assert community.imports_visible(bogor_operator) == []
    assert community.coverage(user=bogor_operator) == []
    with pytest.raises(NotFound):
        community.import_get(user=bogor_operator, public_id=imp.public_id)
    with pytest.raises(NotFound):
        community.village_list(user=bogor_operator, village_code=BANDUNG_VILLAGE)
    assert [i.public_id for i in community.imports_visible(bandung_operator)] == [imp.public_id]
    with pytest.raises(PermissionDenied):
        community.coverage(user=field_agent)


def test_a_village_s_household_list_is_an_audited_read(
    homes: Any, rank_file: Path, bandung_operator: Any
) -> None:
    community.community_import(acting_user=None, path=rank_file)
    entries = community.village_list(user=bandung_operator, village_code="32.73.01.1001")
    assert [e.rank for e in entries] == list(range(1, 11))
    assert entries[0].household_public_id == homes[BANDUNG_VILLAGE][9].public_id
    (event,) = events("targeting.community_village_view")
    assert event.actor == bandung_operator
    assert event.region_code == BANDUNG_VILLAGE
    assert event.detail["records"] == 10


# --- compare --------------------------------------------------------------------------------


def test_compare_prints_the_three_lists_side_by_side(run: ScoringRun, rank_file: Path) -> None:
    community.community_import(acting_user=None, path=rank_file)
    out = io.StringIO()
    call_command("community", "compare", "--run", run.public_id, "--rule", "shortlist",
                 "--k", "2", "--quota", "0.3", stdout=out)  # fmt: skip
    text = out.getvalue()
    assert "hybrid rule shortlist (k=2)" in text
    assert "villages: 3 (2 with a community ranking, 1 fall back to the PMT)" in text
    # 3 + 3 + 1 per list (Bogor: 5 x 0.3 = 1.5 households; the second would start at 1, past
    # the middle of its weight: a household is in when most of it lies inside the quota).
    (selected,) = [line for line in text.splitlines() if line.startswith("selected")]
    assert selected.split() == ["selected", "7", "7", "7"]
    assert "mistargeting (all villages)" in text
    assert "mistargeting (ranked villages)" in text


def test_the_comparison_measures_where_the_meeting_knew_better(
    run: ScoringRun, rank_file: Path
) -> None:
    community.community_import(acting_user=None, path=rank_file)
    r = community.community_compare(
        acting_user=None, rule=hybrid.HybridRule("community_only"), quota=0.3, run=run
    )
    assert r["villages"] == {"total": 3, "with_community": 2, "fallback": 1}
    assert r["households"]["with_truth"] == 25
    lists = r["lists"]
    # Sukarasa: the PMT picks serials 1-3, the truly poorest are 8-10 (the meeting's 1-3).
    assert lists["pmt"]["ranked_villages"]["mistargeting"] > 0
    assert lists["community"]["ranked_villages"]["mistargeting"] == 0.0
    assert lists["hybrid"] == lists["community"]
    assert r["rank_correlation"]["community"] == 1.0
    (event,) = events("targeting.community_compare")
    assert event.target_id == run.public_id
    assert event.detail["rule"]["kind"] == "community_only"


def test_a_regional_reader_compares_only_their_regions(
    run: ScoringRun, rank_file: Path, bogor_operator: Any
) -> None:
    community.community_import(acting_user=None, path=rank_file)
    r = community.community_compare(
        acting_user=bogor_operator, rule=hybrid.HybridRule(), quota=0.3, run=run
    )
    assert r["scope"] == ["3201"]
    assert r["villages"] == {"total": 1, "with_community": 0, "fallback": 1}
    assert r["households"]["total"] == 5
    assert events("targeting.community_compare")[0].region_code == "3201"


def test_compare_refuses_a_quota_outside_0_1(run: ScoringRun) -> None:
    with pytest.raises(CommandError, match="quota"):
        call_command("community", "compare", "--quota", "30")


def test_list_shows_imports_coverage_and_one_village(
    homes: Any, rank_file: Path, bandung_operator: Any
) -> None:
    imp = community.community_import(acting_user=None, path=rank_file)
    out = io.StringIO()
    call_command("community", "list", "--user", bandung_operator.username, stdout=out)
    assert imp.public_id in out.getvalue()
    assert f"{GEGERKALONG}           10      10" in out.getvalue()
    out = io.StringIO()
    call_command("community", "list", "--village", BANDUNG_VILLAGE, "--user",
                 bandung_operator.username, stdout=out)  # fmt: skip
    assert out.getvalue().splitlines()[0].startswith(homes[BANDUNG_VILLAGE][9].public_id)
    assert events("targeting.community_village_view")


# --- page -----------------------------------------------------------------------------------


def test_the_page_imports_shows_coverage_and_compares(
    run: ScoringRun, rank_file: Path, staff_client: Any, supervisor: Any
) -> None:
    c = staff_client(supervisor)
    assert "musyawarah" in c.get("/targeting/").content.decode().lower()
    with rank_file.open("rb") as fh:
        response = c.post("/targeting/musyawarah/", {"ranking": fh, "label": "Musdes 2026"})
    assert response.status_code == 302
    imp = CommunityRankingImport.objects.get()
    assert imp.label == "Musdes 2026"
    assert events("targeting.community_import")[0].actor == supervisor
    body = c.get(response["Location"]).content.decode()
    assert imp.public_id in body
    assert "Sukarasa" in body
    body = c.get(
        "/targeting/musyawarah/", {"rule": "weighted", "weight": "0,5", "quota": "0.3"}
    ).content.decode()
    assert 'id="community-compare"' in body
    assert "weighted (community weight=0.5)" in body
    assert events("targeting.community_compare")


def test_the_page_shows_every_reason_when_an_import_is_refused(
    homes: Any, tmp_path: Path, staff_client: Any, supervisor: Any
) -> None:
    path = write(tmp_path / "bad.csv", f"kode_desa,no_kk,peringkat\n{BANDUNG_VILLAGE},1,1\n")
    with path.open("rb") as fh:
        body = staff_client(supervisor).post("/targeting/musyawarah/", {"ranking": fh})
    text = body.content.decode()
    assert "kk_invalid" in text or "16 digit" in text
    assert not CommunityRankingImport.objects.exists()


def test_the_page_lists_a_village_s_households_for_its_operator_only(
    homes: Any, rank_file: Path, staff_client: Any, bandung_operator: Any, bogor_operator: Any
) -> None:
    community.community_import(acting_user=None, path=rank_file)
    body = (
        staff_client(bandung_operator)
        .get("/targeting/musyawarah/", {"village": BANDUNG_VILLAGE})
        .content.decode()
    )
    assert 'id="community-village"' in body
    assert homes[BANDUNG_VILLAGE][9].public_id in body
    assert 'name="ranking"' not in body  # operators do not import
    body = (
        staff_client(bogor_operator)
        .get("/targeting/musyawarah/", {"village": BANDUNG_VILLAGE})
        .content.decode()
    )
    assert homes[BANDUNG_VILLAGE][9].public_id not in body
    assert len(events("targeting.community_village_view")) == 1


def test_a_field_agent_may_not_open_the_page(
    homes: Any, staff_client: Any, field_agent: Any
) -> None:
    assert staff_client(field_agent).get("/targeting/musyawarah/").status_code == 403


# --- API ------------------------------------------------------------------------------------


def test_the_api_imports_and_answers_with_the_reasons(
    homes: Any, tmp_path: Path, staff_client: Any, supervisor: Any
) -> None:
    b = BANDUNG_VILLAGE
    text = "desa|kk|pilih\n" + "\n".join(
        [f"{b}|{kk(b, 1)}|ya", f"{b}|{kk(b, 2)}|tidak", f"{b}|3273011503159999|ya"]
    )
    path = write(tmp_path / "api.csv", text + "\n")
    c = staff_client(supervisor)
    with path.open("rb") as fh:
        r = c.post("/api/targeting/community/imports", {
            "ranking": fh, "village_column": "desa", "kk_column": "kk",
            "selected_column": "pilih", "delimiter": "|",
        })  # fmt: skip
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["kind"] == "selected"
    assert data["rows_used"] == 2
    assert {p["code"]: p["rows"] for p in data["problems"]}["kk_unknown"] == [3]
    assert c.get(f"/api/targeting/community/imports/{data['public_id']}").json()["sha256"]
    assert [i["public_id"] for i in c.get("/api/targeting/community/imports").json()] == [
        data["public_id"]
    ]
    cov = c.get("/api/targeting/community/coverage").json()
    assert cov == [{**cov[0], "village_code": b, "households": 10, "ranked": 2, "selected": 1}]
    listed = c.get(f"/api/targeting/community/villages/{b}").json()
    assert [e["selected"] for e in listed] == [True, False]


def test_the_api_refuses_an_unusable_file_with_every_reason(
    homes: Any, tmp_path: Path, staff_client: Any, supervisor: Any
) -> None:
    path = write(tmp_path / "x.csv", f"kode_desa,no_kk,peringkat\n{BOGOR_VILLAGE},1,0\n")
    with path.open("rb") as fh:
        r = staff_client(supervisor).post("/api/targeting/community/imports", {"ranking": fh})
    assert r.status_code == 422
    codes = {p["code"] for p in r.json()["problems"]}
    assert {"kk_invalid", "rank_not_integer", "nothing_usable"} <= codes


def test_the_api_compares_within_the_caller_s_regions(
    run: ScoringRun, rank_file: Path, staff_client: Any, bandung_operator: Any
) -> None:
    community.community_import(acting_user=None, path=rank_file)
    c = staff_client(bandung_operator)
    r = c.post("/api/targeting/community/compare",
               json.dumps({"rule": "shortlist", "k": 2, "quota": 0.3}),
               content_type="application/json")  # fmt: skip
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["scope"] == ["3273"]
    assert data["villages"] == {"total": 2, "with_community": 2, "fallback": 0}
    assert set(data["lists"]) == {"pmt", "community", "hybrid"}
    assert data["lists"]["hybrid"]["selected"] == 6
    bad = c.post("/api/targeting/community/compare", json.dumps({"rule": "majority"}),
                 content_type="application/json")  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["field"] == "rule"


def test_the_api_keeps_imports_and_villages_to_their_roles_and_regions(
    homes: Any, rank_file: Path, staff_client: Any, bandung_operator: Any, bogor_operator: Any
) -> None:
    with rank_file.open("rb") as fh:
        r = staff_client(bandung_operator).post("/api/targeting/community/imports", {"ranking": fh})
    assert r.status_code == 403
    community.community_import(acting_user=None, path=rank_file)
    c = staff_client(bogor_operator)
    assert c.get(f"/api/targeting/community/villages/{BANDUNG_VILLAGE}").status_code == 404
    assert c.get("/api/targeting/community/coverage").json() == []
