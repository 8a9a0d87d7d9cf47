"""The grievance cast: Kota Bandung and Kabupaten Bogor operators, a supervisor, a citizen's
registered household in Sukarasa (Bandung), and a distributed PKH cycle with a payment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache

from tests.registry.conftest import (  # noqa: F401 (fixtures)
    BANDUNG_VILLAGE,
    BOGOR_VILLAGE,
    bandung_operator,
    bogor_operator,
    field_agent,
    make_household,
    make_members,
    regions,
    staff_client,
    supervisor,
)

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


@pytest.fixture
def evidence_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def key() -> Callable[[], str]:
    from tepat.core.ids import new_public_id

    return lambda: new_public_id(24)
