"""Fast bulk inserts for loads of hundreds of thousands of rows.

Django's `bulk_create` compiles every value through the ORM; at a million rows that costs more
than the database's own work (measured on the registry load: 14 of 30 s). This writes model
instances with PostgreSQL's COPY or SQLite's executemany, adapting values the way the backend
does, and can read back the generated ids by public id. Use it only on trusted, already
validated instances: it skips `save()` and signals by design.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models

_CHUNK = 5000


def _columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and isinstance(f, models.AutoField | models.BigAutoField))
    ]


def _adapt(field: models.Field[Any, Any], value: Any, *, postgres: bool) -> Any:
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if postgres:
        return value  # psycopg adapts str, int, bool, date and aware datetimes itself
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(field, models.DateField):
        return connection.ops.adapt_datefield_value(value)
    return value


def bulk_insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Insert `objs` (pre-filled instances; auto_now fields must already hold values)."""
    if not objs:
        return
    fields = _columns(model)
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for obj in objs:
                    copy.write_row(
                        [_adapt(f, getattr(obj, f.attname), postgres=True) for f in fields]
                    )
        else:
            marks = ", ".join(["%s"] * len(fields))
            # Table and column names come from model metadata, quoted; values are parameters.
            sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
            for start in range(0, len(objs), _CHUNK):
                cursor.executemany(
                    sql,
                    [
                        [_adapt(f, getattr(obj, f.attname), postgres=False) for f in fields]
                        for obj in objs[start : start + _CHUNK]
                    ],
                )


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
