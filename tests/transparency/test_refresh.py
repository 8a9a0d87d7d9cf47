"""`transparency refresh`: every level of every published cycle, with suppression flags."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tepat.core.models import AuditEvent
from tepat.programs.models import Cycle
from tepat.transparency.models import AggregateCell, RefreshRun
from tepat.transparency.services import aggregates_refresh
from tests.conftest import GEGERKALONG, PONDOK_RAJEG, SUKAASIH, SUKARASA
from tests.transparency.builders import make_cycle, make_recipients

pytestmark = pytest.mark.django_db


def _cells(cycle: Cycle) -> dict[str, AggregateCell]:
    return {c.region_code: c for c in AggregateCell.objects.filter(cycle=cycle)}


def test_it_rolls_villages_up_to_the_nation(published: Cycle) -> None:
    aggregates_refresh()
    cells = _cells(published)
    assert cells[""].recipients == 56
    assert cells[""].amount == 56 * 750_000
    assert cells["32"].recipients == 41
    assert cells["327301"].recipients == 29
    assert cells[""].level == "national"
    assert cells[SUKARASA].level == "village"


def test_it_hides_a_small_village_and_the_sibling_that_would_reveal_it(published: Cycle) -> None:
    aggregates_refresh()
    cells = _cells(published)
    assert cells[GEGERKALONG].recipients_hidden
    assert cells[SUKARASA].recipients_hidden
    assert not cells["327301"].recipients_hidden
    assert not cells[PONDOK_RAJEG].recipients_hidden


def test_paid_counts_are_suppressed_on_their_own_tree(published: Cycle) -> None:
    aggregates_refresh()
    cells = _cells(published)
    # Pondok Rajeg has 3 paid: hidden up to Kabupaten Bogor, and Kota Bandung as complement.
    assert cells[PONDOK_RAJEG].paid_hidden
    assert cells["3201"].paid_hidden
    assert cells["3273"].paid_hidden
    assert not cells["32"].paid_hidden
    assert cells["32"].paid == 27


def test_a_small_unpaid_remainder_hides_the_paid_count(regions: None) -> None:
    cycle = make_cycle(code="2026-T9")
    make_recipients(cycle, PONDOK_RAJEG, 30, paid=28)  # 2 unpaid: 28 would reveal them
    make_recipients(cycle, SUKAASIH, 40, paid=30)
    aggregates_refresh()
    cells = _cells(cycle)
    assert not cells[PONDOK_RAJEG].recipients_hidden
    assert cells[PONDOK_RAJEG].paid_hidden
    assert cells["32"].paid_hidden  # Jawa Barat is Pondok Rajeg alone in this cycle
    assert cells[SUKAASIH].paid_hidden  # the complement in the nation's relation
    assert not cells[""].paid_hidden


def test_draft_cycles_are_never_published(published: Cycle) -> None:
    aggregates_refresh()
    assert set(AggregateCell.objects.values_list("cycle_id", flat=True)) == {published.pk}


def test_a_refresh_replaces_the_snapshot_and_is_audited(published: Cycle) -> None:
    aggregates_refresh()
    first = AggregateCell.objects.count()
    aggregates_refresh()
    assert AggregateCell.objects.count() == first
    assert RefreshRun.objects.count() == 2
    assert AuditEvent.objects.filter(action="transparency.refresh").count() == 2


def test_the_threshold_is_configurable(published: Cycle, settings) -> None:
    settings.TRANSPARENCY_SUPPRESSION_THRESHOLD = 3
    run = aggregates_refresh()
    assert run.threshold == 3
    assert not _cells(published)[GEGERKALONG].recipients_hidden


def test_a_threshold_below_two_is_refused(published: Cycle, settings) -> None:
    settings.TRANSPARENCY_SUPPRESSION_THRESHOLD = 1
    with pytest.raises(ValueError, match="at least 2"):
        aggregates_refresh()


def test_the_command_reports_what_it_did(published: Cycle, capsys) -> None:
    call_command("transparency", "refresh")
    out = capsys.readouterr().out
    assert "refreshed" in out
    assert "threshold 10" in out
