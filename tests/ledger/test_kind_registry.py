"""The ledger knows no entry kind of its own: apps register theirs (tepat.ledger.entries) and the
cross-checks `tepat ledger verify` runs after the log verifies (tepat.ledger.cross_checks)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from django.core.management import CommandError, call_command

from tepat.core.errors import ValidationFailed
from tepat.ledger import cross_checks, entries
from tepat.ledger.entries import Code, Entry, KindConflict, register_kind

LEDGER = Path(entries.__file__).parent


class TrialOpened(Entry):
    kind: Literal["trial.opened"] = "trial.opened"
    trial: Code


class TrialOpenedAgain(Entry):
    kind: Literal["trial.opened"] = "trial.opened"
    trial: Code


class TrialEnded(Entry):
    kind: Literal["trial.ended"] = "trial.ended"
    trial: Code


@pytest.fixture
def registry() -> Iterator[None]:
    """Registrations made by a test are forgotten after it."""
    schemas = {kind: dict(versions) for kind, versions in entries.SCHEMAS.items()}
    terminal = dict(entries._TERMINAL)
    checks = dict(cross_checks._CHECKS)
    yield
    entries.SCHEMAS.clear()
    entries.SCHEMAS.update(schemas)
    entries._TERMINAL.clear()
    entries._TERMINAL.update(terminal)
    entries._terminal_kinds = frozenset(terminal)
    cross_checks._CHECKS.clear()
    cross_checks._CHECKS.update(checks)


def test_the_ledger_source_names_no_kind_that_an_app_writes():
    written = {"cycle.approved", "payment.sent", "payment.settled", "handover.recorded"}
    for path in [LEDGER / "entries.py", LEDGER / "services.py", LEDGER / "cross_checks.py"]:
        strings = {
            node.value
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
        assert not strings & written, path.name


def test_the_apps_register_their_kinds_when_django_starts():
    assert entries.SCHEMAS["cycle.approved"][1].__module__ == "tepat.programs.ledger_kinds"
    assert entries.SCHEMAS["payment.sent"][2].__module__ == "tepat.payments.ledger_kinds"
    assert entries.terminal_kinds() == {"payment.settled", "payment.failed", "handover.recorded"}
    assert entries.terminal_field("payment.failed") == "payment"
    assert entries.terminal_field("payment.sent") is None


def test_a_registered_kind_validates_and_an_unregistered_one_is_refused(registry):
    body = {"programme": "PKH", "cycle": "T1", "time": "2026-11-28T08:00:00Z", "trial": "t-1"}
    with pytest.raises(ValidationFailed) as err:
        entries.entry_validate(kind="trial.opened", body=body)
    assert err.value.problems[0].code == "unknown_kind"
    register_kind(TrialOpened)
    assert isinstance(entries.entry_validate(kind="trial.opened", body=body), TrialOpened)


def test_registering_the_same_schema_again_changes_nothing(registry):
    register_kind(TrialOpened)
    register_kind(TrialOpened)
    assert entries.SCHEMAS["trial.opened"] == {1: TrialOpened}


def test_a_second_schema_for_a_kind_and_version_is_refused(registry):
    register_kind(TrialOpened)
    with pytest.raises(KindConflict, match="already"):
        register_kind(TrialOpenedAgain)
    assert entries.SCHEMAS["trial.opened"] == {1: TrialOpened}


def test_a_kind_is_terminal_on_every_version_or_on_none(registry):
    register_kind(TrialEnded, terminal="trial")
    assert entries.terminal_field("trial.ended") == "trial"
    assert "trial.ended" in entries.terminal_kinds()

    class TrialEndedV2(TrialEnded):
        v: Literal[2] = 2  # type: ignore[assignment]

    with pytest.raises(KindConflict, match="terminal"):
        register_kind(TrialEndedV2)


def test_a_terminal_kind_must_carry_the_field_it_ends(registry):
    with pytest.raises(KindConflict, match="no field 'payment'"):
        register_kind(TrialEnded, terminal="payment")
    assert "trial.ended" not in entries.SCHEMAS


def test_a_schema_without_a_kind_is_refused(registry):
    with pytest.raises(KindConflict, match="kind"):
        register_kind(Entry)


def test_payments_registers_the_cross_check_of_ledger_verify():
    (check,) = [c for c in cross_checks.cross_checks() if c.name == "payments"]
    assert check.ok == "OK: every settled payment matches its log entry"


def test_ledger_verify_runs_every_registered_cross_check_and_names_the_first_bad_entry(
    db, registry, capsys
):
    cross_checks.cross_check_register(
        "trial", lambda: [(7, "entry 7: trial differs")], ok="OK: trials", failed="trials differ"
    )
    with pytest.raises(CommandError, match=r"^trials differ; first bad entry: 7$"):
        call_command("ledger", "verify")
    captured = capsys.readouterr()
    assert "OK: every settled payment matches its log entry" in captured.out
    assert "entry 7: trial differs" in captured.err


def test_a_second_cross_check_under_a_taken_name_is_refused(registry):
    def check() -> list[tuple[int | None, str]]:
        return []

    cross_checks.cross_check_register("trial", check, ok="ok", failed="bad")
    cross_checks.cross_check_register("trial", check, ok="ok", failed="bad")
    with pytest.raises(ValueError, match="already registered"):
        cross_checks.cross_check_register("trial", list, ok="ok", failed="bad")
