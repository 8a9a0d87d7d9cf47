from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tepat.grievances import services
from tepat.grievances.models import Complaint
from tepat.monitoring.grievances import grievance_backlog
from tests.conftest import BANDUNG_VILLAGE, BOGOR_VILLAGE

pytestmark = pytest.mark.django_db


def _file(key: str, village: str) -> Complaint:
    complaint, _ = services.complaint_submit(
        submission_key=key,
        category="not_received",
        village_code=village,
        description="Bantuan tahap 4 belum saya terima sampai sekarang.",
    )
    return complaint


def test_monitoring_counts_open_and_overdue_complaints_per_region(regions, key):
    _file(key(), BANDUNG_VILLAGE)
    late = _file(key(), BANDUNG_VILLAGE)
    Complaint.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(days=1))
    _file(key(), BOGOR_VILLAGE)
    bandung = grievance_backlog(region_code="3273")
    assert (bandung.open, bandung.overdue) == (2, 1)
    everything = grievance_backlog()
    assert (everything.open, everything.overdue) == (3, 1)
