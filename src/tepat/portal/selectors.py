"""Reads for the public status check (Cek Bansos): only what a citizen may see.

The answer carries a masked name, programmes, desil, status per tahap, amount, channel, schedule
and pick-up place, and nothing else (no NIK, no address, no account number).

Every door (NIK + name, village + name + NIK or KK number, NIK + registered phone) runs one
statement whose WHERE clause holds every secret the caller presents, and which brings the
matching people back with their visible tahap rows in the same round trip. "Not found" and
"wrong name" therefore run the same statement and get the same zero rows: neither the answer
nor its timing tells them apart.

The statement is written by hand, not built by the ORM, on purpose: this is the hottest public
path (target 1,000 checks/s), and compiling the equivalent querysets (a join per tahap, the
latest payment, the latest desil) cost about 10 ms of Python per check against well under 1 ms
in the database. (It used to be two statements, people then tahap; one round trip instead of
two saves a client/server exchange per found check.) It reads registry, programs, payments and
targeting tables; this app's tests run it on SQLite and PostgreSQL, so a renamed column fails
loudly.

On PostgreSQL the statement is prepared, once per connection and door (connections are kept,
CONN_MAX_AGE): planning took about 0.45 ms per statement against 0.1 ms to run it, on the
server's share of the same CPU. Django's cursors bind parameters on the client and never prepare,
so the statement goes through a server-binding psycopg cursor, still wrapped by Django (query
logging and execute wrappers see it as any other).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils.translation import get_language

from tepat.core import crypto
from tepat.core.masking import mask_name
from tepat.payments.models import Channel, PaymentState
from tepat.programs.models import CycleState, EntitlementState
from tepat.registry.cleaning import name_search_key
from tepat.targeting.models import ScoringRun

VISIBLE_CYCLES = (CycleState.APPROVED, CycleState.DISTRIBUTED, CycleState.ENDED)


@dataclass
class TahapRow:
    programme: str
    cycle: str
    tahap: int
    period_start: dt.date
    period_end: dt.date
    amount: int
    status: str  # a payment state, else the entitlement state
    status_label: str
    channel: str
    collection_place: str
    collection_from: dt.datetime | None
    collection_until: dt.datetime | None


@dataclass
class StatusResult:
    masked_name: str
    village_code: str
    desil: int | None
    rows: list[TahapRow] = field(default_factory=list)

    @property
    def programmes(self) -> list[str]:
        return sorted({r.programme for r in self.rows})


# One statement, one round trip: the people matching every secret given (LIMIT: 1 by NIK, a few
# by village), the desil of the latest finished scoring run, and each person's visible tahap with
# its latest payment (a person without any still comes back once, with NULL tahap columns).
_STATUS_SQL = """
WITH people AS (
  SELECT per.id, per.full_name, hh.village_id, per.household_id,
    (SELECT hs.desil_national FROM targeting_householdscore hs
      WHERE hs.household_id = per.household_id
        AND hs.run_id = (SELECT MAX(r.id) FROM targeting_scoringrun r WHERE r.status = %s))
      AS desil
  FROM registry_person per
  JOIN registry_household hh ON hh.id = per.household_id
  WHERE {where}
  ORDER BY per.id
  LIMIT %s
)
SELECT ppl.id, ppl.full_name, ppl.village_id, ppl.desil, e.id, prog.name, c.code, c.instalment,
  c.period_start, c.period_end, e.amount, e.state, pay.amount, pay.state, pay.channel,
  pay.collection_place, pay.collection_from, pay.collection_until
FROM people ppl
LEFT JOIN (
  programs_entitlement e
  JOIN programs_cycle c ON c.id = e.cycle_id AND c.state IN (%s, %s, %s)
  JOIN programs_programme prog ON prog.id = c.programme_id
) ON e.household_id = ppl.household_id
LEFT JOIN payments_payment pay ON pay.id = (
  SELECT MAX(p2.id) FROM payments_payment p2 WHERE p2.entitlement_id = e.id)
ORDER BY ppl.id, c.period_start DESC, prog.code, e.id
"""
_BY_NIK = _STATUS_SQL.format(where="per.nik_index = %s AND per.name_search = %s")
_BY_PHONE = _STATUS_SQL.format(where="per.nik_index = %s AND per.phone_index = %s")
# By village: the name is not enough (a neighbour knows it); the person's NIK or the family's KK
# number must match too, so the village door answers only someone holding one of the cards.
_BY_REGION = _STATUS_SQL.format(
    where="hh.village_id = %s AND per.name_search = %s AND (per.nik_index = %s OR hh.kk_index = %s)"
)

_DONE = str(ScoringRun.Status.DONE)
_VISIBLE = [str(s) for s in VISIBLE_CYCLES]


def _date(value: Any) -> dt.date:
    # Both backends hand back a date through Django's cursor; ISO text is tolerated.
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _datetime(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    # SQLite stores naive UTC (text, or a naive datetime through Django's converters).
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@functools.lru_cache(maxsize=32)
def _labels(language: str) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Payment state, entitlement state and channel labels, translated into `language` (the
    active one: the choices are lazy translations, resolved here once per language)."""
    return (
        {k: str(v) for k, v in PaymentState.choices},
        {k: str(v) for k, v in EntitlementState.choices},
        {k: str(v) for k, v in Channel.choices},
    )


_prepared_cursor_class: Any = None


def _cursor() -> Any:
    """Django's cursor; on PostgreSQL one that prepares each statement it runs (see above)."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    global _prepared_cursor_class
    if _prepared_cursor_class is None:
        import psycopg

        class PreparedCursor(psycopg.Cursor[Any]):
            def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
                return super().execute(query, params, **{**kwargs, "prepare": True})

        _prepared_cursor_class = PreparedCursor
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django sets None, which turns preparing off altogether, even on request. A threshold
        # no statement reaches prepares only what asks (client-binding cursors never prepare).
        raw.prepare_threshold = 2**31
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        cursor = _prepared_cursor_class(raw)
    if connection.queries_logged:
        return connection.make_debug_cursor(cursor)
    return connection.make_cursor(cursor)


def _results(where_sql: str, params: Sequence[Any], limit: int) -> list[StatusResult]:
    with _cursor() as cur:
        cur.execute(where_sql, [_DONE, *params, limit, *_VISIBLE])
        found = cur.fetchall()
    if not found:
        return []
    payment_states, entitlement_states, channels = _labels(get_language() or "")
    results: dict[int, StatusResult] = {}
    for (person, full_name, village, desil, entitlement, programme, code, number, start, end,
         amount, state, pay_amount, pay_state, pay_channel, place, pay_from,
         pay_until) in found:  # fmt: skip
        result = results.get(person)
        if result is None:
            result = results[person] = StatusResult(
                masked_name=mask_name(full_name), village_code=village, desil=desil
            )
        if entitlement is None:  # no visible tahap: the person's one row
            continue
        paid = pay_state is not None
        result.rows.append(
            TahapRow(
                programme=programme,
                cycle=code,
                tahap=number,
                period_start=_date(start),
                period_end=_date(end),
                amount=pay_amount if paid else amount,
                status=pay_state if paid else state,
                status_label=str(
                    payment_states.get(pay_state, pay_state)
                    if paid
                    else entitlement_states.get(state, state)
                ),
                channel=channels.get(pay_channel, "") if paid else "",
                collection_place=place or "",
                collection_from=_datetime(pay_from),
                collection_until=_datetime(pay_until),
            )
        )
    return list(results.values())


def status_by_nik(*, nik: str, name: str) -> StatusResult | None:
    """The status for a valid 16-digit NIK and the name on the KTP; None when either is wrong."""
    found = _results(
        _BY_NIK, [crypto.blind_index(nik, purpose="nik"), name_search_key(name)], limit=1
    )
    return found[0] if found else None


def status_by_region(
    *, village_code: str, name: str, number: str, limit: int = 5
) -> list[StatusResult]:
    """Cek Bansos's other door: village + full name + a second factor, `number`: the person's
    NIK or the family's KK number (16 digits). At most `limit` people, masked."""
    key = name_search_key(name)
    if len(key) < 3 or not number:
        return []
    nik_index = crypto.blind_index(number, purpose="nik")
    kk_index = crypto.blind_index(number, purpose="kk")
    return _results(_BY_REGION, [village_code, key, nik_index, kk_index], limit=limit)


def status_by_phone_nik(*, nik: str, phone: str) -> StatusResult | None:
    """For SMS: the status only when the sender's phone is the one registered for this NIK."""
    if not phone:
        return None
    found = _results(
        _BY_PHONE,
        [crypto.blind_index(nik, purpose="nik"), crypto.blind_index(phone, purpose="phone")],
        limit=1,
    )
    return found[0] if found else None
