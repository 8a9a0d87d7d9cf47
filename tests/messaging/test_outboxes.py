"""SMS outboxes: apps register a drain, the worker runs every one on each turn
(tepat.messaging.outboxes)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tepat.messaging import outboxes


@pytest.fixture
def registry() -> Iterator[None]:
    """Registrations made by a test are forgotten after it."""
    saved = dict(outboxes._OUTBOXES)
    yield
    outboxes._OUTBOXES.clear()
    outboxes._OUTBOXES.update(saved)


def test_every_registered_drain_runs_in_order_with_the_gateway(registry):
    outboxes._OUTBOXES.clear()
    calls: list[tuple[str, Any]] = []
    gateway = object()

    def first(gw: Any) -> int:
        calls.append(("first", gw))
        return 2

    def second(gw: Any) -> int:
        calls.append(("second", gw))
        return 1

    outboxes.outbox_register("first", first)
    outboxes.outbox_register("second", second)
    assert outboxes.outboxes_drain(gateway) == 3  # type: ignore[arg-type]
    assert calls == [("first", gateway), ("second", gateway)]


def test_registering_the_same_drain_again_changes_nothing(registry):
    def drain(gw: Any) -> int:
        return 0

    outboxes.outbox_register("trial", drain)
    outboxes.outbox_register("trial", drain)
    assert outboxes.outboxes()["trial"] is drain


def test_another_drain_under_a_taken_name_is_refused(registry):
    outboxes.outbox_register("trial", lambda gw: 0)
    with pytest.raises(ValueError, match="already registered"):
        outboxes.outbox_register("trial", lambda gw: 1)
