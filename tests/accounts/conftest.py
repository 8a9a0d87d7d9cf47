"""The accounts cast: an admin, an operator of Kota Bandung (3273) with TOTP, a new supervisor."""

from __future__ import annotations

import time

import pyotp
import pytest
from django.core.cache import cache

from tepat.accounts import services
from tepat.accounts.models import User
from tepat.regions.models import Region

PASSWORD = "bansos-tepat-2026"
OPERATOR_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture(autouse=True)
def _clear_cache():
    # The per-IP throttle lives in the cache, which outlives a test's database transaction.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def regions(db) -> None:
    """Jawa Barat, Kota Bandung and one of its districts, and Jawa Tengah."""
    rows = [
        ("32", "32", "Jawa Barat", "province", None),
        ("33", "33", "Jawa Tengah", "province", None),
        ("3273", "32.73", "Kota Bandung", "regency", "32"),
        ("327301", "32.73.01", "Sukasari", "district", "3273"),
    ]
    Region.objects.bulk_create(
        [Region(code=c, dotted_code=d, name=n, level=lv, parent_id=p) for c, d, n, lv, p in rows]
    )


@pytest.fixture
def admin_user(db) -> User:
    return services.user_create(acting_user=None, username="admin", password=PASSWORD, role="admin")


@pytest.fixture
def operator(regions) -> User:
    """An operator of Kota Bandung who has already enrolled TOTP."""
    return services.user_create(
        acting_user=None,
        username="operator.bandung",
        password=PASSWORD,
        role="operator",
        region_codes=["3273"],
        totp_secret=OPERATOR_SECRET,
    )


@pytest.fixture
def supervisor(regions) -> User:
    """A supervisor of Jawa Barat who has not enrolled TOTP yet."""
    return services.user_create(
        acting_user=None,
        username="supervisor.jabar",
        password=PASSWORD,
        role="supervisor",
        region_codes=["32"],
    )


def code_at(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def pending_secret(client, user: User) -> str:
    """The TOTP secret the client's session is enrolling (it lives in that session only)."""
    secret = services.totp_pending_secret(user=user, session=client.session)
    assert secret is not None, "this session has not opened the enrolment page"
    return secret
