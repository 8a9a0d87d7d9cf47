"""The shared formatting filters (`{% load tepat_format %}`) and the label maps (core.labels)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from tepat.core import labels


def render(source: str, **context: object) -> str:
    return Template("{% load tepat_format %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (5831325, "Rp5.831.325"),
        (5_831_325_000, "Rp5.831.325.000"),
        ("750000", "Rp750.000"),
        (0, "Rp0"),
        (-1500, "-Rp1.500"),
        (812345.6, "Rp812.346"),  # an estimate rounds to the nearest rupiah
        (Decimal("1000.4"), "Rp1.000"),
        (None, ""),
        ("", ""),
        ("n/a", "n/a"),
    ],
)
def test_rupiah_reads_as_people_write_money(value, shown):
    assert render("{{ v|rupiah }}", v=value) == shown


@pytest.mark.parametrize("language", ["id", "en"])
def test_rupiah_is_the_same_in_every_language(language):
    with translation.override(language):
        assert render("{{ v|rupiah }}", v=5831325) == "Rp5.831.325"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (12.5, "12.5"),
        (300.0, "300"),
        (7, "7"),
        (Decimal("0.125"), "0.125"),
        (1e-7, "0.0000001"),
        (None, "0"),
        ("", "0"),
        ("abc", "0"),
        (float("nan"), "0"),
        (float("inf"), "0"),
        (True, "0"),
    ],
)
def test_svg_number_never_carries_a_decimal_comma(value, shown):
    with translation.override("id"):
        assert render("{{ v|svg_number }}", v=value) == shown


def test_without_the_filter_indonesian_writes_a_decimal_comma():
    """Why the filter exists: Django localizes floats, and an SVG attribute then breaks."""
    with translation.override("id"):
        assert render("{{ v }}", v=12.5) == "12,5"
        assert render("{{ v|svg_number }}", v=12.5) == "12.5"


def test_label_puts_a_code_in_words_in_the_active_language():
    with translation.override("id"):
        assert render('{{ s|label:"import_status" }}', s="done") == "Selesai"
    with translation.override("en"):
        assert render('{{ s|label:"import_status" }}', s="done") == "Done"


def test_label_shows_an_unknown_code_rather_than_hiding_it():
    assert render('{{ s|label:"import_status" }}', s="paused") == "paused"
    assert render('{{ s|label:"import_status" }}', s=None) == ""


def test_label_refuses_a_map_that_does_not_exist():
    with pytest.raises(KeyError):
        labels.label("no_such_map", "done")


@pytest.mark.parametrize(
    ("action", "domain"),
    [
        ("household.view", "Rumah tangga"),
        ("login.failed", "Masuk"),
        ("grievance.complaint_decide", "Pengaduan"),
        ("something.new", ""),
        ("", ""),
    ],
)
def test_audit_domain_names_what_an_action_touched(action, domain):
    with translation.override("id"):
        assert render("{{ a|audit_domain }}", a=action) == domain


def test_every_audit_action_in_the_code_has_a_domain_label():
    """A new audit action in a new domain would show only its code on the audit page."""
    import re
    from pathlib import Path

    import tepat

    root = Path(tepat.__file__).parent
    found = set()
    for path in root.rglob("*.py"):
        for action in re.findall(r'action="([a-z_]+)\.[a-z_.]+"', path.read_text("utf-8")):
            found.add(action)
    assert found, "the scan found no audit action: the pattern is stale"
    assert found <= set(labels.AUDIT_DOMAIN), sorted(found - set(labels.AUDIT_DOMAIN))


def test_every_label_holds_words_not_its_code():
    """A label that repeats its code would put the code on the page after all."""
    for kind, mapping in labels.LABELS.items():
        for code, words in mapping.items():
            assert str(words), (kind, code)
            assert str(words) != code, (kind, code)


def test_no_template_or_message_writes_raw_rupiah_digits():
    """`Rp{{ amount }}` and f"Rp{amount}" print Rp5831325; every amount goes through the
    `rupiah` filter or core.money.format_rupiah (the one place that writes "Rp" before digits;
    the ledger page's "Rp{amount}" is filled by its script with grouped digits)."""
    import re
    from pathlib import Path

    import tepat

    root = Path(tepat.__file__).parent
    raw = re.compile(r"Rp\{\{|Rp\{(?!amount\})")
    allowed = {root / "core" / "money.py"}
    found = [
        f"{path.relative_to(root)}:{n}"
        for path in root.rglob("*")
        if path.suffix in {".html", ".py", ".js", ".txt"}
        and "vendor" not in path.parts
        and path not in allowed
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if raw.search(line)
    ]
    assert found == []
