"""A reviewer in a real browser (issue 20, item 9): the linkage review queue shows what differs,
a decision is confirmed in place with an undo and the open-pairs counter follows; registry search
says when it is capped and pages on; the province picker offers only the reviewer's regions.
axe-core checks every state visited."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from tepat.integration.importing import import_file
from tepat.integration.models import ReviewPair
from tepat.integration.services import sources_ensure_builtin
from tepat.registry import selectors
from tests.conftest import signed_in
from tests.integration.test_importing import _csv

BPJS = (
    "B-8,3273011205800008,ASEP SUNANDAR,1980-05-12,L,KEPALA,JL. MERDEKA 1,3273011002,PBI,3,AKTIF",
    "B-9,3273014302840009,SITI NURHALIZA,1984-02-03,P,ISTRI,JL. MERDEKA 1,3273011001,PBI,3,AKTIF",
)


def _sign_in(page: Any, live_server: Any, user: Any) -> None:
    client = signed_in(Client(), user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_a_reviewer_compares_decides_undoes_and_pages_through_search(
    page, live_server, axe, bandung_operator, bandung_household, monkeypatch, screenshots_dir
) -> None:
    sources_ensure_builtin()
    import_file(acting_user=None, source_key="bpjs", file_name="b.csv", data=_csv(*BPJS))
    members = {m.relationship: m for m in bandung_household.members.all()}
    for rel, rid, p in (("head", "B-8", 0.8), ("spouse", "B-9", 0.6)):
        ReviewPair.objects.create(
            left_key=f"registry:{members[rel].public_id}",
            right_key=f"bpjs:{rid}",
            probability=p,
            village_code="3273011001",
        )
    first = ReviewPair.objects.get(right_key="bpjs:B-8")
    _sign_in(page, live_server, bandung_operator)

    page.goto("/integrasi/tinjau/")
    counter = page.locator("#review-count")
    assert counter.inner_text().startswith("2 ")
    card = page.locator(f"#pair-{first.public_id}")
    village = card.get_by_role("row", name="Desa/kelurahan")
    assert "Gegerkalong" in village.inner_text()
    assert "Berbeda" in village.inner_text()
    assert "************0008" in card.get_by_role("row", name="NIK").inner_text()
    axe(page, label="review queue")
    page.screenshot(path=str(screenshots_dir / "review_queue.png"), full_page=True)

    card.get_by_role("button", name="Orang yang sama").click()
    status = page.locator(f"#pair-{first.public_id}[role=status]")
    status.wait_for()
    assert "Keputusan disimpan" in status.inner_text()
    page.wait_for_function("() => document.querySelector('#review-count').textContent[0] === '1'")
    page.wait_for_function(f"() => document.activeElement?.id === 'pair-{first.public_id}'")
    axe(page, label="review queue after a decision")
    page.screenshot(path=str(screenshots_dir / "review_queue_decided.png"), full_page=True)
    first.refresh_from_db()
    assert first.status == "accepted"

    status.get_by_role("button", name="Batalkan keputusan").click()
    page.locator(f"#pair-{first.public_id} button[name=decision]").first.wait_for()
    page.wait_for_function("() => document.querySelector('#review-count').textContent[0] === '2'")
    axe(page, label="review queue after an undo")
    first.refresh_from_db()
    assert first.status == "open"

    # Registry search pages on, through htmx, and says the results are capped.
    monkeypatch.setattr(selectors, "SEARCH_PAGE_SIZE", 2)
    page.goto("/registry/")
    provinces = page.locator("#id_province option").evaluate_all(
        "os => os.map(o => o.value).filter(Boolean)"
    )
    assert provinces == ["32"]  # Jawa Barat only, not Banten
    page.select_option("#id_province", "32")
    page.wait_for_function("() => document.querySelectorAll('#id_regency option').length > 1")
    regencies = page.locator("#id_regency option").evaluate_all(
        "os => os.map(o => o.value).filter(Boolean)"
    )
    assert regencies == ["3273"]  # Kota Bandung, not Kabupaten Bogor
    page.get_by_role("button", name="Cari").click()
    page.wait_for_url(re.compile(r"province=32"))
    results = page.locator("#results")
    results.get_by_text("lebih dari 2").wait_for()
    axe(page, label="registry search, capped")
    results.get_by_role("link", name="Berikutnya").click()
    page.wait_for_url(re.compile(r"page=2"))
    results.get_by_role("link", name="Sebelumnya").wait_for()
    assert results.locator("tbody tr").count() == 1
    # focus follows the new results once htmx has settled the swap (wait, do not race it)
    page.wait_for_function("() => document.activeElement?.tagName === 'TABLE'")
    axe(page, label="registry search, page 2")
    page.screenshot(path=str(screenshots_dir / "registry_search_page_2.png"), full_page=True)
