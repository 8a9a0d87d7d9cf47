"""Citizen sign-in codes leave through the payments worker's SMS turn (`tepat worker --sms`),
which knows them only as an outbox portal registered (tepat.messaging.outboxes)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from tepat.messaging.outboxes import outboxes
from tepat.portal.models import CitizenOtp
from tests.portal.conftest import solve

pytestmark = pytest.mark.django_db


def test_portal_registers_its_sign_in_codes_as_an_sms_outbox():
    assert "portal.citizen_otp" in outboxes()


def test_the_worker_with_sms_sends_a_queued_sign_in_code(client, citizen, settings, tmp_path):
    settings.TEPAT_SMS_SIM_PATH = str(tmp_path / "outbox.jsonl")
    page = client.get("/akun/masuk/").content.decode()
    assert client.post("/akun/masuk/", {"nik": citizen["nik"], **solve(page)}).status_code == 302
    assert CitizenOtp.objects.get().state == CitizenOtp.State.QUEUED
    assert not (tmp_path / "outbox.jsonl").exists()  # queued by the page, not sent by it

    call_command("worker", "--once", "--sms", stdout=io.StringIO())

    (line,) = (tmp_path / "outbox.jsonl").read_text().splitlines()
    assert json.loads(line)["to"] == citizen["phone"]
    assert CitizenOtp.objects.get().state != CitizenOtp.State.QUEUED


def test_the_worker_without_sms_leaves_sign_in_codes_queued(client, citizen, settings, tmp_path):
    settings.TEPAT_SMS_SIM_PATH = str(tmp_path / "outbox.jsonl")
    page = client.get("/akun/masuk/").content.decode()
    client.post("/akun/masuk/", {"nik": citizen["nik"], **solve(page)})

    call_command("worker", "--once", stdout=io.StringIO())

    assert not (tmp_path / "outbox.jsonl").exists()
    assert CitizenOtp.objects.get().state == CitizenOtp.State.QUEUED
