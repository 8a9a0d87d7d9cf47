"""The accounts tests' helpers (their staff, the admin, the TOTP-enrolled `operator` of Kota
Bandung and the `new_supervisor` who has not enrolled yet, are tests/conftest.py's)."""

from __future__ import annotations

import time

import pyotp
import pytest
from django.core.cache import cache

from tepat.accounts import services
from tepat.accounts.models import User


@pytest.fixture(autouse=True)
def _clear_cache():
    # The per-IP throttle lives in the cache, which outlives a test's database transaction.
    cache.clear()
    yield
    cache.clear()


def code_at(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def pending_secret(client, user: User) -> str:
    """The TOTP secret the client's session is enrolling (it lives in that session only)."""
    secret = services.totp_pending_secret(user=user, session=client.session)
    assert secret is not None, "this session has not opened the enrolment page"
    return secret
