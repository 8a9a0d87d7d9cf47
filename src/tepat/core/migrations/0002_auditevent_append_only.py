"""Audit events are append-only in the database itself, not only in the admin.

PostgreSQL: a row trigger refuses UPDATE and DELETE. TRUNCATE is a separate statement-level
event and stays allowed (the test suite's flush uses it; a production role should not hold the
TRUNCATE privilege on this table). SQLite: a trigger refuses UPDATE only, because Django's
flush (transactional tests, `flush`) empties SQLite tables with DELETE.

One update is let through on both: setting `actor` to NULL and nothing else, which is what
`on_delete=SET_NULL` does when a staff account is deleted (`actor_label` keeps the name).

A later migration that alters this table on SQLite rebuilds it and drops the trigger: recreate
it there (tests/security/test_admin_and_audit.py fails until it is).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

PG_FORWARD = [
    """
CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.actor_id IS NOT NULL AND NEW.actor_id IS NULL
       AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'core_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
""",
    "DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent",
    """
CREATE TRIGGER core_auditevent_append_only
    BEFORE UPDATE OR DELETE ON core_auditevent
    FOR EACH ROW EXECUTE FUNCTION core_auditevent_append_only()
""",
]

PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent",
    "DROP FUNCTION IF EXISTS core_auditevent_append_only()",
]

SQLITE_FORWARD = [
    """
CREATE TRIGGER IF NOT EXISTS core_auditevent_no_update
BEFORE UPDATE ON core_auditevent
WHEN NOT (
    OLD.actor_id IS NOT NULL AND NEW.actor_id IS NULL
    AND NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.actor_label IS OLD.actor_label
    AND NEW.action IS OLD.action AND NEW.target_type IS OLD.target_type
    AND NEW.target_id IS OLD.target_id AND NEW.region_code IS OLD.region_code
    AND NEW.ip_address IS OLD.ip_address AND NEW.detail IS OLD.detail
)
BEGIN
    SELECT RAISE(ABORT, 'core_auditevent is append-only: UPDATE refused');
END
"""
]

SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS core_auditevent_no_update"]


def _run(schema_editor: Any, statements: dict[str, list[str]]) -> None:
    # params=None: the PL/pgSQL body holds a literal "%", which must not read as a placeholder.
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def forward(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, {"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD})


def backward(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, {"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD})


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
