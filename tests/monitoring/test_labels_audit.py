"""The audit log names what each action touched in words and keeps the exact action (auditors
filter by it)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from tepat.accounts.models import User
from tests.monitoring.breach_cast import WIB, inject

pytestmark = pytest.mark.django_db


def test_each_action_reads_as_its_domain_beside_its_code(
    staff_client: Any, auditor: User, bandung_operator: User
) -> None:
    inject(bandung_operator, dt.datetime(2026, 12, 1, 9, 0, tzinfo=WIB),
           action="household.view", region_code="3273011001")  # fmt: skip
    inject(None, dt.datetime(2026, 12, 2, 10, 0, tzinfo=WIB), action="login.failed", records=None)
    html = staff_client(auditor).get("/pemantauan/audit/").content.decode()
    rows = dict(re.findall(r'<tr data-action="([\w.]+)">(.*?)</tr>', html, flags=re.S))
    assert "Rumah tangga<br><code>household.view</code>" in rows["household.view"]
    assert "Masuk<br><code>login.failed</code>" in rows["login.failed"]
