"""Deciding and assigning are refused by the service itself for read-only roles, not only hidden
by the page: an auditor (national reach, read only) or a field agent in the village cannot
decide a complaint or a community report through any caller."""

from __future__ import annotations

import pytest

from tepat.core.errors import PermissionDenied
from tepat.grievances import services
from tests.conftest import BANDUNG_VILLAGE

pytestmark = pytest.mark.django_db


def _complaint():
    complaint, _ = services.complaint_submit(
        category="not_received",
        description="Bantuan belum diterima sejak tahap lalu.",
        village_code=BANDUNG_VILLAGE,
        submission_key="svcroles00000001",
    )
    return complaint


@pytest.mark.parametrize("who", ["auditor", "field_agent"])
def test_read_only_roles_cannot_decide_or_assign_a_complaint(request, regions, who):
    user = request.getfixturevalue(who)
    complaint = _complaint()
    with pytest.raises(PermissionDenied, match="read-only"):
        services.complaint_decide(
            acting_user=user, complaint=complaint, decision="upheld", note="selesai"
        )
    with pytest.raises(PermissionDenied, match="read-only"):
        services.complaint_assign(acting_user=user, complaint=complaint, assignee=None)
    complaint.refresh_from_db()
    assert complaint.is_open


def test_an_operator_in_the_region_still_decides(regions, bandung_operator):
    complaint = _complaint()
    decided = services.complaint_decide(
        acting_user=bandung_operator, complaint=complaint, decision="upheld", note="selesai"
    )
    assert decided.status == "upheld"
