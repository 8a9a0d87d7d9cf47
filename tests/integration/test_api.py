from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tepat.core.models import AuditEvent
from tepat.integration.importing import import_file
from tepat.integration.models import ImportRun, LinkRun, QuarantinedRow, ReviewPair, Source

from .test_importing import BAD_DATE, BAD_REGION, GOOD, _csv

API = "/api/integration"
FULL_NIK = "3273011205800001"
BAD_DATE_NIK = "3273012007140001"


@pytest.fixture(autouse=True)
def _inline_jobs(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def _upload(client, data, *, source="bpjs", name="bpjs.csv", **extra):
    return client.post(
        f"{API}/import-runs", {"source": source, "file": SimpleUploadedFile(name, data), **extra}
    )


def _imported(*lines):
    return import_file(
        acting_user=None, source_key="bpjs", file_name="b.csv", data=_csv(*lines)
    ).run


def _pair(**kw):
    defaults = {
        "left_key": "bpjs:B-1",
        "right_key": "dukcapil:D-1",
        "probability": 0.7,
        "village_code": "3273011001",
    }
    return ReviewPair.objects.create(**{**defaults, **kw})


def test_every_endpoint_needs_a_signed_in_user(client, sources):
    for url in (
        "/sources",
        "/import-runs",
        "/import-runs/x",
        "/review-pairs",
        "/quality",
        "/link-runs",
    ):
        assert client.get(API + url).status_code == 401, url
    for url in (
        "/import-runs",
        "/import-runs/x/resubmit",
        "/review-pairs/x/decision",
        "/link-runs",
    ):
        assert client.post(API + url, {}, content_type="application/json").status_code == 401, url


def test_a_session_without_the_totp_step_gets_401(client, bandung_operator, sources):
    client.force_login(bandung_operator)
    response = client.get(f"{API}/sources")
    assert response.status_code == 401
    assert response.json()["code"] == "two_factor_required"


def test_it_lists_the_sources_with_format_authority_and_precedence(
    staff_client, field_agent, sources
):
    body = staff_client(field_agent).get(f"{API}/sources").json()
    by_key = {s["key"]: s for s in body}
    assert {"bpjs", "dukcapil"} <= set(by_key)
    dukcapil = by_key["dukcapil"]
    assert dukcapil["format"]
    assert dukcapil["authoritative_for"]
    assert [s["precedence"] for s in body] == sorted((s["precedence"] for s in body), reverse=True)


def test_an_upload_returns_the_run_with_its_quarantined_row_masked(
    staff_client, bandung_operator, sources
):
    response = _upload(
        staff_client(bandung_operator), _csv(GOOD, BAD_DATE), delivered_on="2026-01-05"
    )
    assert response.status_code == 201
    run = response.json()
    assert run["status"] == "done"
    assert run["delivered_on"] == "2026-01-05"
    assert (run["accepted_rows"], run["rejected_rows"], run["duplicate"]) == (1, 1, False)
    assert run["quarantine_count"] == 1
    [row] = run["quarantine"]
    assert (row["row"], row["field"], row["code"]) == (3, "TGL_LAHIR", "impossible_date")
    assert row["values"]["TGL_LAHIR"] == "2014-02-31"
    assert row["values"]["NIK"].startswith("3273")
    assert "*" in row["values"]["NIK"]
    assert BAD_DATE_NIK not in response.content.decode()
    assert FULL_NIK not in response.content.decode()
    assert AuditEvent.objects.filter(
        action="integration.quarantine_view", target_id=run["public_id"]
    ).exists()


def test_uploading_the_same_file_again_returns_the_earlier_run(
    staff_client, bandung_operator, sources
):
    c = staff_client(bandung_operator)
    first = _upload(c, _csv(GOOD, BAD_DATE)).json()
    again = _upload(c, _csv(GOOD, BAD_DATE), name="nama-lain.csv")
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["public_id"] == first["public_id"]
    assert ImportRun.objects.count() == 1


def test_an_upload_names_the_field_of_bad_input(staff_client, bandung_operator, sources):
    c = staff_client(bandung_operator)
    unknown = _upload(c, _csv(GOOD), source="tidak-ada")
    assert unknown.status_code == 422
    assert unknown.json()["field"] == "source"
    assert unknown.json()["problems"][0]["code"] == "unknown_source"
    for bad in ("05-01-2026", "2999-01-01"):
        response = _upload(c, _csv(GOOD), delivered_on=bad)
        assert response.status_code == 422, bad
        assert response.json()["field"] == "delivered_on"
    # The file itself is read by the background task: an empty one fails its run, which says why.
    empty = _upload(c, b"")
    assert empty.status_code == 201
    assert empty.json()["status"] == "failed"
    assert "empty file" in empty.json()["error"]
    assert not ImportRun.objects.filter(status="done").exists()


def test_an_upload_refuses_a_file_over_the_limit(staff_client, bandung_operator, sources, settings):
    settings.TEPAT_INTEGRATION_MAX_UPLOAD_BYTES = 10
    response = _upload(staff_client(bandung_operator), _csv(GOOD))
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"


@pytest.mark.parametrize("who", ["field_agent", "auditor"])
def test_roles_that_cannot_edit_the_registry_cannot_upload(staff_client, who, request, sources):
    user = request.getfixturevalue(who)
    response = _upload(staff_client(user), _csv(GOOD))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert ImportRun.objects.count() == 0


def test_import_runs_are_paged_and_filtered_by_source_and_status(
    staff_client, bandung_operator, sources
):
    _imported(GOOD)
    _imported(BAD_DATE)
    failed = ImportRun.objects.create(
        source=Source.objects.get(key="dukcapil"),
        file_name="d.csv",
        content_hash="0" * 64,
        status="failed",
        delivered_on=dt.date(2026, 1, 5),
    )
    c = staff_client(bandung_operator)
    page = c.get(f"{API}/import-runs?limit=1&offset=1").json()
    assert (page["count"], len(page["items"]), page["offset"]) == (3, 1, 1)
    assert c.get(f"{API}/import-runs?source=bpjs&status=done").json()["count"] == 2
    only = c.get(f"{API}/import-runs?status=failed").json()["items"]
    assert [r["public_id"] for r in only] == [failed.public_id]
    assert c.get(f"{API}/import-runs?status=nonsense").status_code == 422
    assert c.get(f"{API}/import-runs?limit=1000").status_code == 422


def test_a_run_shows_only_quarantined_rows_of_the_callers_regions(
    staff_client, bogor_operator, sources
):
    run = _imported(GOOD, BAD_DATE)
    body = staff_client(bogor_operator).get(f"{API}/import-runs/{run.public_id}").json()
    assert body["rejected_rows"] == 1
    assert (body["quarantine_count"], body["quarantine"]) == (0, [])
    assert not AuditEvent.objects.filter(action="integration.quarantine_view").exists()


def test_an_unknown_run_is_404(staff_client, bandung_operator, sources):
    response = staff_client(bandung_operator).get(f"{API}/import-runs/tidakada")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_operator_corrects_and_resubmits_a_quarantined_row(
    staff_client, bandung_operator, sources
):
    run = _imported(GOOD, BAD_DATE, BAD_REGION)
    response = staff_client(bandung_operator).post(
        f"{API}/import-runs/{run.public_id}/resubmit",
        {"corrections": [{"row": 3, "values": {"TGL_LAHIR": " 2014-02-28 "}}]},
        content_type="application/json",
    )
    assert response.status_code == 201
    new = response.json()
    assert new["resubmission_of"] == run.public_id
    assert (new["accepted_rows"], new["rejected_rows"]) == (1, 0)
    fixed = QuarantinedRow.objects.get(run=run, row_number=3)
    assert fixed.status == "resubmitted"
    assert QuarantinedRow.objects.get(run=run, row_number=4).status == "open"


def test_a_resubmission_names_unknown_rows_and_columns(staff_client, bandung_operator, sources):
    run = _imported(GOOD, BAD_DATE)
    response = staff_client(bandung_operator).post(
        f"{API}/import-runs/{run.public_id}/resubmit",
        {
            "corrections": [
                {"row": 2, "values": {"TGL_LAHIR": "2014-02-28"}},
                {"row": 3, "values": {"TANGGAL": "2014-02-28"}},
            ]
        },
        content_type="application/json",
    )
    assert response.status_code == 422
    problems = {(p["row"], p["field"], p["code"]) for p in response.json()["problems"]}
    assert problems == {(2, "row", "unknown_row"), (3, "TANGGAL", "unknown_column")}
    assert ImportRun.objects.count() == 1


def test_rows_outside_the_callers_regions_cannot_be_resubmitted(
    staff_client, bogor_operator, sources
):
    run = _imported(GOOD, BAD_DATE)
    response = staff_client(bogor_operator).post(
        f"{API}/import-runs/{run.public_id}/resubmit",
        {"corrections": [{"row": 3, "values": {"TGL_LAHIR": "2014-02-28"}}]},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["code"] == "unknown_row"
    assert QuarantinedRow.objects.get().status == "open"


def test_the_review_queue_shows_pairs_of_the_callers_regions_masked(
    staff_client, bandung_operator, bogor_operator, bandung_household, sources
):
    _imported(GOOD)
    head = bandung_household.members.get(relationship="head")
    pair = _pair(right_key=f"registry:{head.public_id}")
    _pair(left_key="bpjs:B-9", right_key="dukcapil:D-9", village_code="3201011001")
    response = staff_client(bandung_operator).get(f"{API}/review-pairs")
    body = response.json()
    assert body["count"] == 1
    [item] = body["items"]
    assert item["public_id"] == pair.public_id
    staged, registry = item["records"]
    assert staged["source"] == "bpjs"
    assert registry["source"] == "registry"
    assert staged["nik_masked"].startswith("3273")
    assert "*" in staged["nik_masked"]
    assert registry["full_name"] == "Asep Sunandar"
    assert FULL_NIK not in response.content.decode()
    assert AuditEvent.objects.filter(action="integration.review_view").exists()


def test_an_operator_decides_a_pair_once(staff_client, bandung_operator, sources):
    pair = _pair()
    c = staff_client(bandung_operator)
    url = f"{API}/review-pairs/{pair.public_id}/decision"
    response = c.post(url, {"decision": "accept"}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    pair.refresh_from_db()
    assert (pair.status, pair.decided_by) == ("accepted", bandung_operator)
    again = c.post(url, {"decision": "reject"}, content_type="application/json")
    assert again.status_code == 409
    assert again.json()["code"] == "already_decided"


def test_a_decision_must_be_accept_or_reject(staff_client, bandung_operator, sources):
    pair = _pair()
    response = staff_client(bandung_operator).post(
        f"{API}/review-pairs/{pair.public_id}/decision",
        {"decision": "maybe"},
        content_type="application/json",
    )
    assert response.status_code == 422
    pair.refresh_from_db()
    assert pair.status == "open"


def test_a_pair_outside_the_callers_regions_is_404(staff_client, bogor_operator, sources):
    pair = _pair()
    response = staff_client(bogor_operator).post(
        f"{API}/review-pairs/{pair.public_id}/decision",
        {"decision": "accept"},
        content_type="application/json",
    )
    assert response.status_code == 404
    pair.refresh_from_db()
    assert pair.status == "open"


def test_a_field_agent_cannot_decide_pairs(staff_client, field_agent, sources):
    pair = _pair()
    response = staff_client(field_agent).post(
        f"{API}/review-pairs/{pair.public_id}/decision",
        {"decision": "accept"},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_the_quality_figures_cover_the_callers_region(staff_client, bandung_operator, sources):
    _imported(GOOD, BAD_DATE)
    _pair()
    body = staff_client(bandung_operator).get(f"{API}/quality?region=32.73").json()
    assert body["region"] == "3273"
    assert body["coverage"] == [{"source": "bpjs", "records": 1, "linked": 0, "match_rate": 0.0}]
    assert body["quarantined"] == [{"source": "bpjs", "code": "impossible_date", "rows": 1}]
    assert body["review_open"] == 1
    assert body["last_link"] is None


def test_quality_for_a_region_outside_the_callers_is_404_and_a_bad_code_422(
    staff_client, bandung_operator, supervisor, sources
):
    c = staff_client(bandung_operator)
    assert c.get(f"{API}/quality?region=3201").status_code == 404
    assert c.get(f"{API}/quality?region=32").status_code == 200  # their part of the province
    bad = c.get(f"{API}/quality?region=abc")  # the schema's pattern refuses it (issue 20)
    assert bad.status_code == 422
    assert bad.json()["field"] == "region"


def test_only_admins_start_link_runs(staff_client, bandung_operator, sources):
    response = staff_client(bandung_operator).post(
        f"{API}/link-runs", {"mode": "incremental"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert LinkRun.objects.count() == 0


def test_a_link_run_is_refused_while_another_runs(staff_client, admin_user, sources):
    running = LinkRun.objects.create()
    c = staff_client(admin_user)
    response = c.post(f"{API}/link-runs", {"mode": "full"}, content_type="application/json")
    assert response.status_code == 409
    assert response.json()["code"] == "link_run_running"
    listed = c.get(f"{API}/link-runs").json()
    assert listed["count"] == 1
    assert listed["items"][0]["public_id"] == running.public_id
    assert c.get(f"{API}/link-runs/{running.public_id}").json()["status"] == "running"
    assert c.get(f"{API}/link-runs/tidakada").status_code == 404


def test_offsets_beyond_what_the_database_takes_are_a_422_not_a_500(
    staff_client, bandung_operator, sources
):
    c = staff_client(bandung_operator)
    huge = "99999999999999999999999"  # above 64 bits: the database refuses such an OFFSET
    for route in ("import-runs", "review-pairs", "link-runs"):
        r = c.get(f"{API}/{route}?offset={huge}")
        assert r.status_code == 422, route
        assert "offset" in r.content.decode()
