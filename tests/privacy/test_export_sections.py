"""The sections of the data subject's copy are declared by the apps that hold the data
(`AppDeclaration.export_sections`); the privacy app only collects them, in reading order."""

from __future__ import annotations

from typing import Any

from tepat.core.declarations import AppDeclaration
from tepat.core.subject_export import ExportSection, SubjectContext
from tepat.privacy.declarations import collect, export_sections

READING_ORDER = [
    ("registry", "subject"),
    ("registry", "household"),
    ("registry", "members"),
    ("registry", "financial_addresses"),
    ("integration", "sources"),
    ("integration", "flags"),
    ("registry", "history"),
    ("targeting", "scores"),
    ("targeting", "score_explanation"),
    ("programs", "entitlements"),
    ("payments", "payments"),
    ("payments", "receipts"),
    ("grievances", "complaints"),
    ("grievances", "complaint_events"),
    ("grievances", "community_reports"),
    ("verification", "vouchers"),
    ("verification", "handovers"),
    ("verification", "proxies"),
    ("verification", "biometrics"),
    ("portal", "notifications"),
    ("payments", "messages"),
    ("portal", "sign_ins"),
    ("payments", "recipients"),
    ("core", "accesses"),
]


def test_each_section_is_declared_by_the_app_that_holds_its_data_in_reading_order():
    sections = export_sections()
    assert [s.key for s in sections] == [key for _app, key in READING_ORDER]
    for section, (app, _key) in zip(sections, READING_ORDER, strict=True):
        assert section.build.__module__ == f"tepat.{app}.subject_export", section.key


def _nothing(ctx: SubjectContext) -> dict[str, Any]:
    return {}


def test_two_sections_with_one_key_or_one_place_are_a_declaration_problem():
    one = AppDeclaration(app="one", export_sections=(ExportSection("same", 10, _nothing),))
    two = AppDeclaration(app="two", export_sections=(ExportSection("same", 10, _nothing),))
    problems = collect(strict=False, declarations=[one, two]).problems
    assert "export section key 'same' is declared twice" in problems
    assert "export section order 10 is declared twice" in problems


def test_the_context_loads_shared_data_once():
    ctx = SubjectContext(person=None, household=None, members=[])
    calls: list[int] = []

    def load() -> list[int]:
        calls.append(1)
        return [1, 2]

    assert ctx.shared("app.thing", load) == [1, 2]
    assert ctx.shared("app.thing", load) == [1, 2]
    assert calls == [1]
