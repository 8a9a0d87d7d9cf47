"""Data migrations of the registry's values at rest (migration 0004 runs these).

* `seal_birth_dates`: the clear `birth_date` column becomes `birth_year` (clear) and
  `birth_date_enc` (the full date, encrypted and bound to the row); the clear column is emptied
  in the same write, so PostgreSQL's new row versions no longer carry it (dropping a column
  there does not rewrite the rows).
* `bind_rows`: NIK, phone, No. KK and account ciphertexts written before row binding (associated
  data naming only the column) are rewritten bound to their row (tepat.registry.sealed).

Both take the models as arguments (a migration passes its historical models), walk the table
in primary-key batches, and are safe to run again: a value already converted is skipped. A
ciphertext that opens under neither binding (another key, test filler) is left as it is and
counted; the application then refuses it as it would have before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag

from tepat.core import crypto
from tepat.core.bulk import update_values
from tepat.registry import sealed

BATCH = 5000

# (model name, field, column context) of every row-bound registry ciphertext.
BOUND_FIELDS = (
    ("Person", "nik_enc", sealed.NIK),
    ("Person", "phone_enc", sealed.PHONE),
    ("Household", "kk_enc", sealed.KK),
    ("FinancialAddress", "account_enc", sealed.ACCOUNT),
)


@dataclass
class Report:
    rewritten: dict[str, int] = field(default_factory=dict)
    already: dict[str, int] = field(default_factory=dict)
    unreadable: dict[str, int] = field(default_factory=dict)


def _batches(model: Any, fields: tuple[str, ...], **filters: Any) -> Any:
    last = 0
    while True:
        rows = list(
            model.objects.filter(pk__gt=last, **filters)
            .order_by("pk")
            .values_list("pk", *fields)[:BATCH]
        )
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def seal_birth_dates(person_model: Any) -> int:
    """Encrypt every clear birth date into `birth_date_enc` (+ `birth_year`); returns how many."""
    done = 0
    for rows in _batches(
        person_model, ("public_id", "birth_date"), birth_date_enc="", birth_date__isnull=False
    ):
        update_values(
            person_model,
            ("birth_year", "birth_date_enc", "birth_date"),
            [
                (born.year, sealed.seal_birth_date(born, row=pid), None, pk)
                for pk, pid, born in rows
            ],
        )
        done += len(rows)
    return done


def unseal_birth_dates(person_model: Any) -> int:
    """The reverse of `seal_birth_dates` (migrating back): the clear column filled again."""
    done = 0
    open_one = sealed.unsealer(context=sealed.BIRTH_DATE)
    for rows in _batches(person_model, ("public_id", "birth_date_enc"), birth_date__isnull=True):
        values = [
            (dt.date.fromisoformat(open_one(token, pid)), "", pk)
            for pk, pid, token in rows
            if token
        ]
        update_values(person_model, ("birth_date", "birth_date_enc"), values)
        done += len(values)
    return done


Opener = Callable[[str, str], str]  # (token, row public id) -> value


def _convert(
    model: Any,
    name: str,
    *,
    source: Opener,
    target: Opener,
    write: Callable[[str, str], str],
    report: Report,
) -> None:
    """Re-encrypt column `name` of every row: open under the `source` binding, `write` under
    the target one; a token that already opens under the `target` binding is left alone."""
    key = f"{model.__name__}.{name}"
    for counts in (report.rewritten, report.already, report.unreadable):
        counts.setdefault(key, 0)
    for rows in _batches(model, ("public_id", name)):
        out = []
        for pk, pid, token in rows:
            if not token:
                continue
            try:
                value = source(token, pid)
            except (InvalidTag, ValueError):
                try:
                    target(token, pid)
                except (InvalidTag, ValueError):
                    report.unreadable[key] += 1
                else:
                    report.already[key] += 1
                continue
            out.append((write(value, pid), pk))
        update_values(model, (name,), out)
        report.rewritten[key] += len(out)


def _column_only(context: str) -> tuple[Opener, Callable[[str, str], str]]:
    opener, writer = crypto.decryptor(context=context), crypto.encryptor(context=context)
    return (lambda token, _row: opener(token)), (lambda value, _row: writer(value))


def _row_bound(context: str) -> tuple[Opener, Callable[[str, str], str]]:
    def opener(token: str, row: str) -> str:
        return crypto.decrypt(token, context=sealed.row_context(context, row))

    return opener, sealed.sealer(context=context)


def bind_rows(models: dict[str, Any]) -> Report:
    """Rewrite column-only ciphertexts bound to their row. `models`: {"Person": ..., ...}."""
    report = Report()
    for model_name, name, context in BOUND_FIELDS:
        (old, _), (new, write) = _column_only(context), _row_bound(context)
        _convert(models[model_name], name, source=old, target=new, write=write, report=report)
    return report


def unbind_rows(models: dict[str, Any]) -> Report:
    """The reverse of `bind_rows` (migrating back to column-only binding)."""
    report = Report()
    for model_name, name, context in BOUND_FIELDS:
        (new, _), (old, write) = _row_bound(context), _column_only(context)
        _convert(models[model_name], name, source=new, target=old, write=write, report=report)
    return report
