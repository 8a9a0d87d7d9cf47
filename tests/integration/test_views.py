from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from tepat.integration.models import ImportRun, ReviewPair

from .test_importing import BAD_DATE, BAD_REGION, GOOD, _csv


def test_pages_need_a_signed_in_user(client, sources):
    for url in ("/integrasi/", "/integrasi/tinjau/", "/integrasi/kualitas/"):
        response = client.get(url)
        assert response.status_code == 302


def test_an_operator_uploads_a_file_and_sees_progress_and_quarantine(
    staff_client, bandung_operator, sources, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    c = staff_client(bandung_operator)
    upload = SimpleUploadedFile("bpjs.csv", _csv(GOOD, BAD_DATE, BAD_REGION))
    response = c.post("/integrasi/", {"source": "bpjs", "file": upload})
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/integrasi/impor/{run.public_id}/"
    page = c.get(response["Location"]).content.decode()
    assert "impossible_date" in page or "tidak valid" in page
    progress = c.get(f"/integrasi/impor/{run.public_id}/progres/").content.decode()
    assert "done" in progress
    assert "hx-trigger" not in progress  # finished: polling stops


def test_an_operator_only_sees_quarantined_rows_of_their_region(
    staff_client, bogor_operator, sources, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    from tepat.integration.importing import import_file

    run = import_file(
        acting_user=None, source_key="bpjs", file_name="b.csv", data=_csv(GOOD, BAD_DATE)
    ).run
    page = staff_client(bogor_operator).get(f"/integrasi/impor/{run.public_id}/").content.decode()
    assert "impossible_date" not in page
    assert "Tidak ada baris di karantina" in page


def test_the_quarantine_downloads_as_csv_for_full_record_roles(staff_client, auditor, sources):
    from tepat.integration.importing import import_file

    run = import_file(
        acting_user=None, source_key="bpjs", file_name="b.csv", data=_csv(GOOD, BAD_DATE)
    ).run
    response = staff_client(auditor).get(f"/integrasi/impor/{run.public_id}/karantina.csv")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.splitlines()[0].startswith("baris_row,kolom_field")
    assert "2014-02-31" in body


def test_an_operator_corrects_a_row_in_the_page(staff_client, bandung_operator, sources):
    from tepat.integration.importing import import_file

    run = import_file(
        acting_user=None, source_key="bpjs", file_name="b.csv", data=_csv(GOOD, BAD_DATE)
    ).run
    q = run.quarantine.get()
    c = staff_client(bandung_operator)
    response = c.post(
        f"/integrasi/impor/{run.public_id}/kirim-ulang/", {f"fix-{q.pk}-TGL_LAHIR": "2014-02-28"}
    )
    assert response.status_code == 302
    q.refresh_from_db()
    assert q.status == "resubmitted"


def test_the_review_queue_records_a_decision(staff_client, bandung_operator, sources):
    pair = ReviewPair.objects.create(
        left_key="bpjs:B-1", right_key="dukcapil:D-1", probability=0.7, village_code="3273011001"
    )
    c = staff_client(bandung_operator)
    assert c.get("/integrasi/tinjau/").status_code == 200
    response = c.post(f"/integrasi/tinjau/{pair.public_id}/", {"decision": "reject"})
    assert response.status_code == 302
    pair.refresh_from_db()
    assert pair.status == "rejected"
    assert pair.decided_by == bandung_operator


def test_an_operator_cannot_decide_pairs_outside_their_region(
    staff_client, bogor_operator, sources
):
    pair = ReviewPair.objects.create(
        left_key="bpjs:B-1", right_key="dukcapil:D-1", probability=0.7, village_code="3273011001"
    )
    response = staff_client(bogor_operator).post(
        f"/integrasi/tinjau/{pair.public_id}/", {"decision": "accept"}
    )
    assert response.status_code == 404
    pair.refresh_from_db()
    assert pair.status == "open"


def test_the_data_quality_page_shows_coverage_and_quarantine(
    staff_client, bandung_operator, sources
):
    from tepat.integration.importing import import_file

    import_file(acting_user=None, source_key="bpjs", file_name="b.csv", data=_csv(GOOD, BAD_DATE))
    page = staff_client(bandung_operator).get("/integrasi/kualitas/?region=3273").content.decode()
    assert "bpjs" in page
    assert "impossible_date" in page
