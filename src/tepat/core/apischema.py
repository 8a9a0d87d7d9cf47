"""The API's one error shape, as a schema every router declares for its error responses.

Every error the JSON API answers, whatever raised it (a TepatError from a service, a request that
does not match the schema, a failed CSRF check, a missing log-in, an unknown id, a method the path
does not have), has this body: `{code, message, field, row, problems}`, where `problems` lists
each refused value (`field` is the value's dotted name in the request, such as
`corrections.0.row` or `offset`, as a service names the field it refuses). tepat.config.api turns each kind of error into it
and documents it on every operation.
"""

from __future__ import annotations

from typing import Any

from ninja import Schema


class FieldProblemOut(Schema):
    field: str
    code: str
    message: str
    row: int | None = None
    severity: str = "error"


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None
    row: int | None
    problems: list[FieldProblemOut]


def error_body(
    code: str,
    message: str,
    *,
    field: str | None = None,
    problems: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An ErrorOut body (a TepatError gives the same through `as_dict()`)."""
    return {
        "code": code,
        "message": message,
        "field": field,
        "row": None,
        "problems": problems or [],
    }


# A Kemendagri region code of any level (2, 4, 6 or 10 digits), dotted or not: "32", "3273",
# "32.73.01", "3273011001". tepat.regions.selectors.normalize_region_code accepts these.
REGION_CODE_PATTERN = r"^[0-9]{2}(\.?[0-9]{2}(\.?[0-9]{2}(\.?[0-9]{4})?)?)?$"
# The same, or nothing (a filter left out).
REGION_FILTER_PATTERN = r"^([0-9]{2}(\.?[0-9]{2}(\.?[0-9]{2}(\.?[0-9]{4})?)?)?)?$"
