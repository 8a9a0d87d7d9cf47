"""Shared bits of the targeting commands: acting user and error display."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from tepat.core.errors import TepatError


def acting_user(username: str | None) -> Any:
    """`--user USERNAME` records who ran the job; without it the run is recorded as `system`."""
    if not username:
        return None
    from tepat.accounts.models import User

    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"pengguna tidak ada / no such user: {username}")
    return user


def fail(exc: TepatError) -> CommandError:
    lines = [str(p) for p in exc.problems] or [exc.message]
    return CommandError("Ditolak / refused:\n  " + "\n  ".join(lines))
