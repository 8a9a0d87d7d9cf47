"""Fast bulk inserts for loads of hundreds of thousands of rows.

Django's `bulk_create` compiles every value through the ORM; at a million rows that costs more
than the database's own work (measured on the registry load: 14 of 30 s). This writes model
instances with PostgreSQL's COPY or SQLite's executemany, adapting values the way the backend
does, and can read back the generated ids by public id. Use it only on trusted, already
validated instances: it skips `save()` and signals by design.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from operator import itemgetter
from typing import Any

from django.db import connection, models, transaction

_CHUNK = 5000
# json.dumps with keyword arguments builds a new encoder per call; at a million JSON values
# that costs a second. The same settings, built once (encode() keeps no state between calls).
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and isinstance(f, models.AutoField | models.BigAutoField))
    ]


def _adapter(field: models.Field[Any, Any], *, postgres: bool) -> Callable[[Any], Any] | None:
    """How one column's values are adapted (None: they pass through unchanged), resolved once
    per column: `connection.ops` is a lookup through a per-thread proxy, a third of the cost
    when paid per value. Only JSON (and on SQLite, dates) need adapting; psycopg adapts str,
    int, bool, date and aware datetimes itself."""
    if isinstance(field, models.JSONField):
        convert: Callable[[Any], Any] = _JSON.encode
    elif postgres:
        return None
    elif isinstance(field, models.DateTimeField):
        convert = connection.ops.adapt_datetimefield_value
    elif isinstance(field, models.DateField):
        convert = connection.ops.adapt_datefield_value
    else:
        return None
    return lambda value: None if value is None else convert(value)


def _row_adapter(
    fields: Sequence[models.Field[Any, Any]], *, postgres: bool, skip: Collection[str] = ()
) -> Callable[[Sequence[Any]], Sequence[Any]] | None:
    """Adapts a row of `fields` values for the backend (None: every row passes as it is)."""
    adapt = [
        (i, convert)
        for i, f in enumerate(fields)
        if f.attname not in skip and (convert := _adapter(f, postgres=postgres)) is not None
    ]
    if not adapt:
        return None

    def adapted(row: Sequence[Any]) -> Sequence[Any]:
        out = list(row)
        for i, convert in adapt:
            out[i] = convert(out[i])
        return out

    return adapted


def json_text(value: Any) -> str:
    """The text a JSONField value is stored as here: for `insert_rows(encoded=...)`, where a
    caller encodes a value many rows share once."""
    return _JSON.encode(value)


def bulk_insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Insert `objs` (pre-filled instances; auto_now fields must already hold values)."""
    if not objs:
        return
    fields = _columns(model)
    insert_rows(
        model,
        [f.attname for f in fields],
        [[getattr(obj, f.attname) for f in fields] for obj in objs],
    )


def insert_rows(
    model: type[models.Model],
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    encoded: Collection[str] = (),
) -> None:
    """Insert plain rows: `names` are field attnames (`person_id`, not `person`), each row holds
    their values in that order. No model instance per row: at a million rows building them
    costs as much as the insert. Columns left out must be nullable or have a database default.
    The JSON columns named in `encoded` hold text from `json_text` (or None), written as is.

    On SQLite more than a few thousand rows go through a temporary table and one INSERT ...
    SELECT: with foreign keys enforced, a statement per row costs twice the time."""
    if not rows:
        return
    by_name = {f.attname: f for f in model._meta.concrete_fields}
    fields = [by_name[n] for n in names]
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    postgres = connection.vendor == "postgresql"
    adapted = _row_adapter(fields, postgres=postgres, skip=encoded) or (lambda row: row)

    with connection.cursor() as cursor:
        if postgres:
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(adapted(row))
        else:
            marks = ", ".join(["%s"] * len(fields))
            # Table and column names come from model metadata, quoted; values are parameters.
            if len(rows) <= _CHUNK:
                sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"  # noqa: S608
                cursor.executemany(sql, [adapted(r) for r in rows])
                return
            temp = connection.ops.quote_name(f"_ins_{model._meta.db_table}")
            cursor.execute(f"DROP TABLE IF EXISTS temp.{temp}")
            # Untyped columns (no affinity): see update_values.
            cursor.execute(f"CREATE TEMPORARY TABLE {temp} ({cols})")
            sql = f"INSERT INTO {temp} VALUES ({marks})"  # noqa: S608
            for start in range(0, len(rows), _CHUNK):
                cursor.executemany(sql, [adapted(r) for r in rows[start : start + _CHUNK]])
            # In rowid order, the order the rows came in: ids are assigned as before.
            cursor.execute(
                f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {temp} ORDER BY rowid"  # noqa: S608
            )
            cursor.execute(f"DROP TABLE {temp}")


def update_rows(
    model: type[models.Model], objs: Sequence[models.Model], names: Sequence[str]
) -> None:
    """UPDATE the named fields of each instance by primary key (see update_values). auto_now
    fields are not touched: set them on the instances first."""
    attnames = [_attname(model, n) for n in names]
    update_values(model, names, [[*(getattr(obj, a) for a in attnames), obj.pk] for obj in objs])


def _attname(model: type[models.Model], name: str) -> str:
    return next(f.attname for f in model._meta.concrete_fields if name in (f.name, f.attname))


def update_values(
    model: type[models.Model], names: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Set the named fields (names or attnames) row by row: each row holds their values in
    that order followed by the primary key, each primary key at most once. bulk_update's CASE
    WHEN per row costs more to compile than to run. A few thousand rows are one executemany of
    a plain UPDATE; more go into a temporary table (COPY on PostgreSQL, executemany on SQLite)
    and the table is updated from it in one UPDATE ... FROM. On SQLite that halves the time of
    the row-by-row statement: with foreign keys enforced every statement pays its own
    constraint bookkeeping, which one statement pays once. There, an update of most of a
    table also rebuilds the indexes on the updated columns instead of maintaining them."""
    if not rows:
        return
    by_name = {}
    for f in model._meta.concrete_fields:
        by_name[f.name] = by_name[f.attname] = f
    fields = [by_name[n] for n in names]
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    quoted = [connection.ops.quote_name(f.column) for f in fields]
    postgres = connection.vendor == "postgresql"
    adapt = _row_adapter(fields, postgres=postgres)
    # Nothing to adapt: the callers' rows as they are.
    adapted = [adapt(row) for row in rows] if adapt is not None else list(rows)
    # In primary-key order: SQLite then walks the table's B-tree once, front to back.
    adapted.sort(key=itemgetter(-1))
    with connection.cursor() as cursor:
        if len(adapted) <= _CHUNK:
            sets = ", ".join(f"{c} = %s" for c in quoted)
            # Table and column names come from model metadata, quoted; values are parameters.
            sql = f"UPDATE {table} SET {sets} WHERE {pk} = %s"  # noqa: S608
            cursor.executemany(sql, adapted)
            return
        temp = connection.ops.quote_name(f"_upd_{model._meta.db_table}")
        cols = ", ".join(quoted)
        # Names come from model metadata, quoted; values travel as COPY rows or parameters.
        if postgres:
            cursor.execute(f"DROP TABLE IF EXISTS {temp}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {temp} AS "  # noqa: S608
                f"SELECT {cols}, {pk} FROM {table} WITH NO DATA"
            )
            with cursor.cursor.copy(f"COPY {temp} ({cols}, {pk}) FROM STDIN") as copy:
                for row in adapted:
                    copy.write_row(row)
        else:
            cursor.execute(f"DROP TABLE IF EXISTS temp.{temp}")
            # Untyped columns have no affinity: a value reaches the table's column exactly as
            # the bound parameter of a plain UPDATE would, converted once, by that column.
            cursor.execute(f"CREATE TEMPORARY TABLE {temp} ({cols}, {pk})")
            marks = ", ".join(["%s"] * (len(quoted) + 1))
            sql = f"INSERT INTO {temp} VALUES ({marks})"  # noqa: S608
            for start in range(0, len(adapted), _CHUNK):
                cursor.executemany(sql, adapted[start : start + _CHUNK])
        sets = ", ".join(f"{c} = t.{c}" for c in quoted)
        update = f"UPDATE {table} AS m SET {sets} FROM {temp} AS t WHERE m.{pk} = t.{pk}"  # noqa: S608
        if postgres:
            cursor.execute(update)
        else:
            # Savepoint: the indexes come back or the update never happened.
            with transaction.atomic():
                rebuild = _sqlite_drop_indexes(
                    cursor, model._meta.db_table, {f.column for f in fields}, len(adapted)
                )
                cursor.execute(update)
                for sql in rebuild:
                    cursor.execute(sql)
        cursor.execute(f"DROP TABLE {temp}")


def _sqlite_drop_indexes(cursor: Any, table: str, columns: set[str], rows: int) -> list[str]:
    """Drop the plain indexes (not unique) on any of `columns` when `rows` is at least half the
    table, and return the statements that create them again. Rebuilding an index sorts once;
    updating it row by row walks it at random, and once it outgrows the page cache that cost
    dominates: updating the cluster of a million staged records took 24 s with its two
    indexes kept, 11 s with them dropped and rebuilt."""
    quote = connection.ops.quote_name
    cursor.execute(f"SELECT count(*) FROM {quote(table)}")  # noqa: S608
    if rows * 2 < cursor.fetchone()[0]:
        return []
    cursor.execute(f"PRAGMA index_list({quote(table)})")
    # (seq, name, unique, origin, partial): origin "c" is a CREATE INDEX, not a constraint.
    plain = [row[1] for row in cursor.fetchall() if not row[2] and row[3] == "c"]
    rebuild: list[str] = []
    for name in plain:
        cursor.execute(f"PRAGMA index_info({quote(name)})")
        # An expression column has no name: it may read an updated column.
        if not any(row[2] is None or row[2] in columns for row in cursor.fetchall()):
            continue
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = %s", [name])
        rebuild.append(cursor.fetchone()[0])
        cursor.execute(f"DROP INDEX {quote(name)}")
    return rebuild


def fill_ids(
    model: type[models.Model], objs: Sequence[models.Model], *, key: str = "public_id"
) -> None:
    """Set `pk` on freshly inserted instances by looking them up by a unique key."""
    keys = [getattr(obj, key) for obj in objs]
    ids: dict[Any, Any] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        ids.update(model._default_manager.filter(**{f"{key}__in": chunk}).values_list(key, "pk"))
    for obj in objs:
        obj.pk = ids[getattr(obj, key)]
