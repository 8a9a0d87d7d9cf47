"""Import pages name a run's and a quarantined row's status in words (`done` reads "Selesai"),
and the upload box explains itself in Indonesian."""

from __future__ import annotations

import re

from django.core.files.uploadedfile import SimpleUploadedFile

from tepat.integration.models import ImportRun

from .test_importing import BAD_DATE, GOOD, _csv


def _upload(client, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    upload = SimpleUploadedFile("bpjs.csv", _csv(GOOD, BAD_DATE))
    client.post("/integrasi/", {"source": "bpjs", "file": upload})
    return ImportRun.objects.get()


def test_progress_home_and_run_pages_show_status_labels(
    staff_client, bandung_operator, sources, settings
):
    client = staff_client(bandung_operator)
    run = _upload(client, settings)
    progress = client.get(f"/integrasi/impor/{run.public_id}/progres/").content.decode()
    assert '<strong data-status="done">Selesai</strong>' in progress
    home = client.get("/integrasi/").content.decode()
    assert '<td data-status="done">Selesai</td>' in home
    assert not re.search(r">\s*(done|pending|running|failed)\s*<", home + progress)
    page = client.get(f"/integrasi/impor/{run.public_id}/").content.decode()
    assert ">Terbuka</td>" in page  # the quarantined row
    assert not re.search(r">\s*open\s*<", page)


def test_the_status_speaks_english_when_chosen(staff_client, bandung_operator, sources, settings):
    client = staff_client(bandung_operator)
    run = _upload(client, settings)
    client.post("/i18n/setlang/", {"language": "en"})
    progress = client.get(f"/integrasi/impor/{run.public_id}/progres/").content.decode()
    assert '<strong data-status="done">Done</strong>' in progress


def test_the_upload_box_explains_itself_in_indonesian(staff_client, bandung_operator, sources):
    home = staff_client(bandung_operator).get("/integrasi/").content.decode()
    assert 'aria-describedby="file-hint"' in home
    assert "Pilih satu berkas dari perangkat ini" in home
