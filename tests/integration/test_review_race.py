"""Two reviewers decide the same pair: the second is refused under the row lock, whatever the
page or API saw before, so a decision is never silently replaced."""

from __future__ import annotations

import pytest

from tepat.integration import services
from tepat.integration.models import ReviewPair

pytestmark = pytest.mark.django_db


@pytest.fixture
def review_pair(regions):
    return ReviewPair.objects.create(
        left_key="registry:kiri", right_key="bpjs:B-9", probability=0.71, village_code="3273011001"
    )


def test_a_pair_decided_meanwhile_is_refused_not_overwritten(
    review_pair, bandung_operator, second_bandung_operator
):
    stale = ReviewPair.objects.get(pk=review_pair.pk)  # what the second reviewer's page loaded
    services.review_decide(acting_user=bandung_operator, pair=review_pair, accept=True)
    with pytest.raises(services.AlreadyDecided):
        services.review_decide(acting_user=second_bandung_operator, pair=stale, accept=False)
    review_pair.refresh_from_db()
    assert review_pair.status == ReviewPair.Status.ACCEPTED
    assert review_pair.decided_by == bandung_operator
