"""Privacy guard: crawl every public page, public API route and open-data file, and fail if a
full NIK, a phone number, an account number or an unmasked name appears anywhere.

The data behind it is registered through the real registry service (encrypted NIK, phone and
account), entitled and paid (the payment carries the payee's name and account snapshot), then
published: refreshed, exported and logged. Anything that leaks on the way shows up here.
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.utils import timezone

from tepat.payments.models import Payment
from tepat.programs.models import Entitlement
from tepat.registry.services import financial_address_set, household_register
from tepat.transparency.models import AggregateCell
from tepat.transparency.services import aggregates_refresh, opendata_export
from tests.conftest import SUKARASA
from tests.transparency.builders import make_cycle, make_recipients

pytestmark = pytest.mark.django_db

NAMES = ["Zulkarnaen Wibisono", "Sekarwangi Paramitha", "Bagaskara Hendrawan"]
PHONES = ["081298765432", "085711223344", "087855667788"]
ACCOUNT = "0123456789012345"
NIK_RE = re.compile(r"(?<![0-9A-Za-z])\d{16}(?![0-9A-Za-z])")
PHONE_RE = re.compile(r"(?<![0-9])(?:\+62|62|0)8\d{8,11}(?![0-9])")
PUBLIC_PREFIXES = ("/transparansi/", "/api/transparency/", "/ledger/", "/tentang/")
MAX_PAGES = 400


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"href", "src", "hx-get", "data-geojson"} and value:
                self.links.append(value)


def _members(serial: int) -> list[dict[str, Any]]:
    return [
        {
            "nik": f"3273011201{80 + serial:02d}{serial + 1:04d}",
            "full_name": NAMES[serial],
            "sex": "M",
            "birth_date": "1980-05-12",
            "birth_place": "Bandung",
            "relationship": "head",
            "marital_status": "married",
            "education": "sma",
            "work_sector": "trade",
            "phone": PHONES[serial],
        }
    ]


@pytest.fixture
def secrets(admin_user: Any, tmp_path: Path, settings: Any) -> dict[str, Any]:
    cycle = make_cycle()
    make_recipients(cycle, SUKARASA, 20, paid=15)  # enough households for published cells
    niks = []
    now = timezone.now()
    for serial in range(3):
        members = _members(serial)
        niks.append(members[0]["nik"])
        household = household_register(
            acting_user=admin_user,
            source="test",
            household={
                "kk": f"3273011503150{serial:03d}",
                "village_code": SUKARASA,
                "address": "Jl. Rahasia No. 7",
                "rt": "003",
                "rw": "007",
            },
            members=members,
        )
        person = household.members.get()
        financial_address_set(
            acting_user=admin_user,
            person=person,
            kind="bank",
            provider="BRI",
            account=ACCOUNT,
            holder_name=NAMES[serial],
            source="test",
        )
        entitlement = Entitlement.objects.create(
            cycle=cycle,
            household=household,
            household_ref=household.public_id,
            beneficiary_ref=person.public_id,
            village_code=SUKARASA,
            amount=750_000,
            state="approved",
        )
        Payment.objects.create(
            payment_key=f"secret-{serial}",
            cycle=cycle,
            entitlement=entitlement,
            beneficiary_ref=person.public_id,
            village_code=SUKARASA,
            amount=750_000,
            channel="bank",
            provider="BRI",
            payee_fa_enc=ACCOUNT,
            payee_fa_masked="************2345",
            payee_name=NAMES[serial],
            state="paid",
            next_attempt_at=now,
        )
    aggregates_refresh()
    settings.TRANSPARENCY_OPENDATA_DIR = tmp_path  # releases live under the open-data root
    release = opendata_export(out=tmp_path)
    assert AggregateCell.objects.filter(region_code=SUKARASA, recipients_hidden=False).exists()
    words = {w for name in NAMES for w in name.split()}
    return {"niks": niks, "words": words, "release": release, "cycle": cycle}


def _leaks(text: str, secrets: dict[str, Any]) -> list[str]:
    found = []
    for nik in secrets["niks"]:
        if nik in text:
            found.append(f"full NIK {nik}")
    found += [f"NIK-like number {m}" for m in NIK_RE.findall(text)]
    for phone in PHONES:
        if phone in text or phone[1:] in text:
            found.append(f"phone {phone}")
    found += [f"phone-like number {m}" for m in PHONE_RE.findall(text)]
    if ACCOUNT in text:
        found.append("account number")
    for name in NAMES:
        if name.lower() in text.lower():
            found.append(f"full name {name}")
    for word in secrets["words"]:
        if re.search(rf"\b{re.escape(word)}\b", text, flags=re.IGNORECASE):
            found.append(f"unmasked name part {word}")
    return found


def _public_api_routes(client: Any) -> list[str]:
    schema = client.get("/api/openapi.json").json()
    return [
        path
        for path, ops in schema["paths"].items()
        if path.startswith("/api/transparency/") and "get" in ops and "{" not in path
    ]


def test_no_public_page_api_or_export_leaks_personal_data(
    client: Any, secrets: dict[str, Any]
) -> None:
    cycle = secrets["cycle"]
    codes = sorted(set(AggregateCell.objects.values_list("region_code", flat=True)))
    start = ["/", "/transparansi/", "/transparansi/data/", "/ledger/verify/", "/ledger/checkpoint"]
    for route in _public_api_routes(client):
        start.append(route)
        for code in codes:
            start.append(f"{route}?cycle={cycle.public_id}&region={code}")
    for code in codes:
        start.append(f"/transparansi/?tahap={cycle.public_id}&wilayah={code}")
    queue = deque(start)
    seen: set[str] = set()
    problems: list[str] = []
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code != 200:
            continue
        body = (
            b"".join(response.streaming_content) if response.streaming else response.content
        ).decode("utf-8", errors="replace")
        problems += [f"{url}: {leak}" for leak in _leaks(body, secrets)]
        links: list[str] = []
        if "html" in response.get("Content-Type", ""):
            parser = _Links()
            parser.feed(body)
            links = parser.links
        elif "json" in response.get("Content-Type", ""):
            links = re.findall(r'"(https?://testserver/[^"]+)"', body)
        for link in links:
            parts = urlsplit(urljoin(url, link))
            if parts.netloc not in {"", "testserver"}:
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if parts.path.startswith(PUBLIC_PREFIXES) and target not in seen:
                queue.append(target)
    assert problems == []
    assert any(u.endswith("agregat.csv") for u in seen), "the crawl reached no export file"
    assert any(u.endswith("penerima.csv") for u in seen)
    assert len(seen) > 20


def test_the_export_files_on_disk_leak_nothing(secrets: dict[str, Any]) -> None:
    base = Path(secrets["release"].directory)
    files = sorted(p for p in base.rglob("*") if p.is_file())
    assert len(files) == 4
    for path in files:
        assert _leaks(path.read_text(encoding="utf-8"), secrets) == [], path


def test_the_guard_itself_catches_a_leak(secrets: dict[str, Any]) -> None:
    assert _leaks(f"nama: {NAMES[0]}", secrets)
    assert _leaks("nik 3273011201800000 x", secrets)
    assert _leaks("hp +6281298765432", secrets)
    assert _leaks(f"rek {ACCOUNT}", secrets)
    assert _leaks("Zu******** Wibisono", secrets)
    assert not _leaks("Zu******** Wi*******", secrets)
