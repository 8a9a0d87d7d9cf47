"""Bounds for API pagination shared by every app's page schema.

SQLite and PostgreSQL take OFFSET as a signed 64-bit integer: a larger value (which a schema of
plain `int` admits) makes the database refuse the query and the route answer 500. A billion rows
is beyond any table Tepat pages through, so a larger offset is a 422 naming the field instead.
"""

from __future__ import annotations

MAX_OFFSET = 1_000_000_000

# The largest value an integer column holds on both databases (PostgreSQL's `integer` is 32-bit):
# a larger number in a path or query (a model version, a log index) cannot name a row, and
# would make PostgreSQL refuse the query ("integer out of range") and the route answer 500.
MAX_INT32 = 2**31 - 1
# A 64-bit column's largest value (the transparency log's sizes and indexes).
MAX_INT64 = 2**63 - 1
