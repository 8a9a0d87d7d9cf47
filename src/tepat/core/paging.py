"""Bounds for API pagination shared by every app's page schema.

SQLite and PostgreSQL take OFFSET as a signed 64-bit integer: a larger value (which a schema of
plain `int` admits) makes the database refuse the query and the route answer 500. A billion rows
is beyond any table Tepat pages through, so a larger offset is a 422 naming the field instead.
"""

from __future__ import annotations

MAX_OFFSET = 1_000_000_000
