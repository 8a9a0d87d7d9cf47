"""The grievance cast: Kota Bandung and Kabupaten Bogor operators, a supervisor, a citizen's
registered household in Sukarasa (Bandung), and a distributed PKH cycle with a payment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache


def image_bytes(fmt: str, size: tuple[int, int] = (24, 16), **save: Any) -> bytes:
    """A small real picture (two colour halves, so a rotation shows) encoded as `fmt`."""
    import io

    from PIL import Image

    img = Image.new("RGB", size, (200, 30, 30))
    img.paste((30, 30, 200), (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    img.save(out, format=fmt, **save)
    return out.getvalue()


JPEG = image_bytes("JPEG")
PNG = image_bytes("PNG")


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
