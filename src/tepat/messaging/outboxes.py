"""SMS outboxes that apps fill and the worker drains (`tepat worker --sms`).

An app that queues text messages in its own table (portal: citizen sign-in codes) registers a
drain from its AppConfig.ready(): `fn(gateway) -> int` sends what is due through the gateway and
returns how many it accepted. The worker runs every registered drain on each turn, in
registration order, so no app that sends needs to know which others do, and the worker imports
none of them.
"""

from __future__ import annotations

from collections.abc import Callable

from tepat.messaging.gateway import SmsGateway

Drain = Callable[[SmsGateway], int]

_OUTBOXES: dict[str, Drain] = {}


def outbox_register(name: str, drain: Drain) -> None:
    """Drain `drain` on every turn of the SMS worker. Registering the same drain again under
    its name is a no-op (ready() may run more than once); another under a taken name is
    refused."""
    known = _OUTBOXES.get(name)
    if known is not None and known is not drain:
        raise ValueError(f"SMS outbox {name!r} is already registered")
    _OUTBOXES[name] = drain


def outboxes() -> dict[str, Drain]:
    """The registered drains by name, in registration order."""
    return dict(_OUTBOXES)


def outboxes_drain(gateway: SmsGateway) -> int:
    """One turn: every registered drain, in order; how many messages the gateway accepted."""
    return sum(drain(gateway) for drain in list(_OUTBOXES.values()))
