"""One lock per cycle.

One lock orders everything that happens to an approved cycle and its payments: the cycle's row.
Lifecycle changes (issue, resolve, reconcile, distribute, close, cancel) hold it exclusively
(FOR UPDATE); the paths that move payments (the worker's claim, reschedule and record, status
polls, callbacks, handovers) hold it shared (FOR SHARE on PostgreSQL), so workers never wait on
each other while a cancel waits for them and they for it. It is always taken first, before any
payment row, so the two kinds never deadlock. SQLite serialises every writer (IMMEDIATE
transactions): there the state checks inside the transaction are enough.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from tepat.core.errors import NotFound
from tepat.programs.models import Cycle, CycleState

PAYABLE = (CycleState.APPROVED,)  # the only state in which a cycle's payments are sent


def cycle_lock(cycle: Cycle) -> Cycle:
    """The cycle, locked exclusively until the caller's transaction ends (call inside one)."""
    try:
        return (
            Cycle.objects.select_for_update(of=("self",))
            .select_related("programme")
            .get(pk=cycle.pk)
        )
    except Cycle.DoesNotExist:
        raise NotFound() from None


def cycles_hold(cycle_ids: Iterable[int], *, skip_locked: bool = False) -> dict[int, str]:
    """The shared side of the cycles' locks, held until the caller's transaction ends:
    {cycle id: state}. With `skip_locked`, a cycle someone is changing right now is left out
    (the worker's claim: it comes back to it on its next turn)."""
    ids = sorted({int(i) for i in cycle_ids})
    if not ids:
        return {}
    if connection.vendor != "postgresql":
        return dict(Cycle.objects.filter(id__in=ids).values_list("id", "state"))
    table = connection.ops.quote_name(Cycle._meta.db_table)
    skip = " SKIP LOCKED" if skip_locked else ""
    sql = f"SELECT id, state FROM {table} WHERE id = ANY(%s) ORDER BY id FOR SHARE{skip}"  # noqa: S608 - the model's own table name
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids])
        return {int(i): str(state) for i, state in cursor.fetchall()}
