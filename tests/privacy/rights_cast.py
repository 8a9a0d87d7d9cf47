"""Fixtures for data-subject request tests (the staff, the regions and the Bogor household are
tests/conftest.py's): Asep Sunandar's household in Sukarasa (Bandung) scored at desil 2, and
helpers that sign a citizen in with the SMS code and open requests through the pages.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.cache import cache

from tests.conftest import make_household, make_members
from tests.portal.conftest import solve


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


HEAD_NIK = "3273011205800001"  # Asep Sunandar, head of the Sukarasa household
CHILD_NIK = "3273012007140001"


@pytest.fixture
def subject(regions: None, tmp_path: Any) -> dict[str, Any]:
    """Asep Sunandar's household in Sukarasa with three neighbours, scored by a real PMT model
    (calibrated on a small survey) so that desil, explanations and exports are real."""
    from tepat.registry.services import household_register
    from tepat.targeting.models import HouseholdScore
    from tepat.targeting.services import pmt_calibrate, scoring_run
    from tests.targeting.conftest import SPEC, write_survey

    hh = household_register(
        acting_user=None, source="test", household=make_household(), members=make_members()
    )
    floors = ["earth", "ceramic", "cement"]
    for i in range(2, 5):
        h = make_household(serial=i)
        h["floor_material"] = floors[i % 3]
        h["floor_area_m2"] = str(20 + 15 * i)
        household_register(
            acting_user=None,
            source="test",
            household=h,
            members=make_members(serial=i, head_name=f"Kepala Keluarga {'ABC'[i - 2]}")[:2],
        )
    model = pmt_calibrate(
        acting_user=None, survey_path=write_survey(tmp_path / "survey.csv"), spec_text=SPEC
    )
    scoring_run(acting_user=None, model=model)
    head = hh.members.get(relationship="head")
    return {
        "nik": HEAD_NIK,
        "child_nik": CHILD_NIK,
        "head": head,
        "child": hh.members.get(relationship="child"),
        "household": hh,
        "desil": HouseholdScore.objects.get(household=hh).desil_national,
    }


@pytest.fixture
def outbox(settings: Any, tmp_path: Any) -> Any:
    settings.TEPAT_SMS_SIM_PATH = str(tmp_path / "outbox.jsonl")
    return tmp_path / "outbox.jsonl"


def sign_in(client: Any, nik: str, outbox: Any) -> Any:
    """The citizen asks for a code, the worker sends it, the citizen types it in."""
    from tepat.messaging.gateway import sms_gateway
    from tepat.portal.citizen import otp_deliver

    page = client.get("/akun/masuk/").content.decode()
    assert client.post("/akun/masuk/", {"nik": nik, **solve(page)}).status_code == 302
    otp_deliver(gateway=sms_gateway())
    body = json.loads(outbox.read_text().splitlines()[-1])["body"]
    code = re.search(r"\b(\d{6})\b", body)
    assert code
    r = client.post("/akun/kode/", {"code": code.group(1)})
    assert r.status_code == 302
    assert r["Location"] == "/akun/"
    return client


def open_at_office(client: Any, nik: str, kind: str, **fields: str) -> Any:
    """Through the office form: find the citizen by NIK, then record the request."""
    r = client.post("/privasi/permintaan/baru/", {"step": "find", "nik": nik})
    assert r.status_code == 200, r.content.decode()[:500]
    person = re.search(r'name="person" value="([^"]+)"', r.content.decode())
    assert person
    data = {
        "step": "open",
        "person": person.group(1),
        "kind": kind,
        "identity_checked": "on",
        **fields,
    }
    return client.post("/privasi/permintaan/baru/", data)


def request_id_from(response: Any) -> str:
    assert response.status_code == 302, response.content.decode()[:800]
    m = re.search(r"/privasi/permintaan/([^/]+)/$", response["Location"])
    assert m, response["Location"]
    return m.group(1)


def act(client: Any, public_id: str, action: str, **fields: str) -> Any:
    return client.post(f"/privasi/permintaan/{public_id}/", {"action": action, **fields})
