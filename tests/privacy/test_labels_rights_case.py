"""The staff page of a data subject request names each event and status in words (the citizen's
page already did): `received`, `assigned`, `in_review` never show."""

# ruff: noqa: F811 - fixtures imported from the cast are requested by name
from __future__ import annotations

import re

import pytest

from tests.privacy.rights_cast import (  # noqa: F401 (fixtures)
    _clear_cache,
    act,
    open_at_office,
    request_id_from,
    subject,
)

pytestmark = pytest.mark.django_db


def test_the_case_history_reads_as_words(subject, bandung_operator, login):
    op = login(bandung_operator)
    pid = request_id_from(open_at_office(op, subject["nik"], "access", details="Minta salinan"))
    act(op, pid, "assign")
    page = op.get(f"/privasi/permintaan/{pid}/").content.decode()
    history = re.search(r'<ol id="history">(.*?)</ol>', page, flags=re.S)
    assert history
    text = re.sub(r"<[^>]+>", " ", history.group(1))
    assert "Permintaan diterima" in text
    assert "Mulai ditinjau petugas → Sedang ditinjau" in text
    for code in ("received", "assigned", "in_review"):
        assert not re.search(rf"\b{code}\b", text), code
