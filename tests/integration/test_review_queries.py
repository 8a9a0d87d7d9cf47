"""The review queue reads each page's records in a fixed number of queries, not two per pair."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tepat.integration import selectors
from tepat.integration.importing import import_file
from tepat.integration.models import ReviewPair

from .test_importing import _csv
from .test_review_page import BPJS_ASEP

pytestmark = pytest.mark.django_db


def _pairs(n: int, head_key: str) -> list[ReviewPair]:
    return [
        ReviewPair.objects.create(
            left_key=head_key, right_key=f"bpjs:B-{9 + i}", probability=0.5 + i / 100,
            village_code="3273011001",
        )
        for i in range(n)
    ]  # fmt: skip


def test_comparing_many_pairs_costs_the_same_queries_as_one(
    sources, bandung_household, bandung_operator
):
    import_file(acting_user=None, source_key="bpjs", file_name="b.csv", data=_csv(BPJS_ASEP))
    head = bandung_household.members.get(relationship="head")
    one, *more = _pairs(6, f"registry:{head.public_id}")
    with CaptureQueriesContext(connection) as single:
        [only] = selectors.review_pair_comparisons([one], user=bandung_operator)
    with CaptureQueriesContext(connection) as many:
        rows = selectors.review_pair_comparisons([one, *more], user=bandung_operator)
    assert len(rows) == 6
    assert rows[0] == only
    assert len(many.captured_queries) == len(single.captured_queries)
