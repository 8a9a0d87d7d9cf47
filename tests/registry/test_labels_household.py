"""The household page's history and "as of" answer show words, never stored codes
(`financial_address`, `head`, `work_sector`...), in Indonesian and in English."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tepat.registry import labels
from tepat.registry.services import financial_address_set, household_update, person_update

pytestmark = pytest.mark.django_db

# Codes the registry stores that must never reach a reader of the page.
CODES = (
    "financial_address", "household", "person", "create", "update",
    "work_sector", "relationship", "owns_refrigerator", "full_name",
    "not_working", "trade", "head", "spouse", "other_family", "bank",
)  # fmt: skip


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join("".join(parser.parts).split())


def history_section(html: str) -> str:
    start = html.rindex("<", 0, html.index('id="as-of"'))
    return visible(html[start:])


@pytest.fixture
def changed_household(bandung_household):
    """Asep's family after three edits: the wife's relationship and work, a fridge, a bank
    account for the head."""
    wife = bandung_household.members.get(relationship="spouse")
    head = bandung_household.members.get(relationship="head")
    person_update(
        acting_user=None, person=wife, source="test", reason="hasil verifikasi",
        changes={"relationship": "other_family", "work_sector": "trade"},
    )  # fmt: skip
    household_update(
        acting_user=None, household=bandung_household, source="test",
        changes={"owns_refrigerator": True},
    )  # fmt: skip
    financial_address_set(
        acting_user=None, person=head, kind="bank", provider="BRI", account="1234567890",
        source="test",
    )  # fmt: skip
    return bandung_household


def _page(client, household, **query):
    return client.get(f"/registry/rumah-tangga/{household.public_id}/", query).content.decode()


def test_history_names_each_change_in_words(staff_client, bandung_operator, changed_household):
    text = history_section(_page(staff_client(bandung_operator), changed_household))
    for words in (
        "Anggota keluarga", "Rumah tangga", "Rekening", "Diubah", "Dibuat",
        "Hubungan dengan kepala keluarga: Istri/suami → Famili lain",
        "Pekerjaan: Tidak bekerja → Perdagangan",
        "Memiliki kulkas: tidak → ya",
    ):  # fmt: skip
        assert words in text, words
    for code in CODES:
        assert not re.search(rf"\b{code}\b", text), code


def test_history_speaks_english_when_chosen(staff_client, bandung_operator, changed_household):
    client = staff_client(bandung_operator)
    client.post("/i18n/setlang/", {"language": "en"})
    text = history_section(_page(client, changed_household))
    assert "Relationship to the head: Spouse → Other relative" in text
    assert "Changed" in text
    assert "Created" in text
    for code in (c for c in CODES if "_" in c):  # English words may be "head" or "person"
        assert code not in text, code


def test_as_of_lists_members_with_relationship_and_sex_in_words(
    staff_client, bandung_operator, bandung_household
):
    text = history_section(
        _page(staff_client(bandung_operator), bandung_household, as_of="2100-01-01")
    )
    assert "Kepala keluarga, Laki-laki" in text
    assert "Istri/suami, Perempuan" in text
    assert not re.search(r"\b(head|spouse|child)\b", text)
    assert not re.search(r", [MF]\)", text)


def test_a_bad_as_of_date_is_explained_in_the_page_language(
    staff_client, bandung_operator, bandung_household
):
    page = _page(staff_client(bandung_operator), bandung_household, as_of="31-12-2024")
    assert "Tanggal tidak valid: tulis sebagai TTTT-BB-HH" in page
    assert "invalid date" not in page


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("relationship", "head", "Kepala keluarga"),
        ("sex", "F", "Perempuan"),
        ("disability", "", "Tidak ada"),  # "" is a choice here: it means something
        ("school_level", "", "Tidak bersekolah"),
        ("kind", "ewallet", "Dompet elektronik"),
        ("owns_car", False, "tidak"),
        ("pregnant", True, "ya"),
        ("electricity_va", 900, "900"),
        ("address", "", "–"),
        ("deceased_on", None, "–"),
        ("relationship", "not-a-code", "not-a-code"),  # unknown: shown, never hidden
    ],
)
def test_a_snapshot_value_reads_as_words(field, value, words):
    assert labels.value_label(field, value) == words


def test_every_snapshot_field_has_a_name():
    """A field added to the snapshots without a name would show its code in the history."""
    from tepat.core.labels import HISTORY_FIELD
    from tepat.registry.cleaning import HOUSEHOLD_EDITABLE, PERSON_EDITABLE

    snapshot_fields = {*HOUSEHOLD_EDITABLE, *PERSON_EDITABLE, "kk_masked", "village_code"}
    snapshot_fields |= {"nik_masked", "phone_masked", "account_masked", "holder_name", "kind"}
    snapshot_fields |= {"provider", "valid_from", "valid_to"}
    snapshot_fields -= {"phone"}  # kept masked: phone_masked
    assert snapshot_fields <= set(HISTORY_FIELD)
