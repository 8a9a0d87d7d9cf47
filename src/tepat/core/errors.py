"""One error type for the application and one error shape for the API and the command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FieldProblem:
    """One reason a value was refused (or warned about), naming where it was."""

    field: str
    code: str
    message: str
    row: int | None = None
    severity: str = "error"  # "error" refuses the record; "warning" keeps it and says why

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "code": self.code,
            "message": self.message,
            "row": self.row,
            "severity": self.severity,
        }

    def __str__(self) -> str:
        where = f"row {self.row}, " if self.row is not None else ""
        return f"{where}{self.field}: {self.message}"


class TepatError(Exception):
    """An expected failure with a clear message; views and the API show it as it is."""

    http_status = 400

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        field: str | None = None,
        row: int | None = None,
        problems: list[FieldProblem] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.row = row
        self.problems = problems or []

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "field": self.field,
            "row": self.row,
            "problems": [p.as_dict() for p in self.problems],
        }


class ValidationFailed(TepatError):
    """Input refused: `problems` lists every field and reason, so nothing is half-applied."""

    http_status = 422

    def __init__(self, problems: list[FieldProblem]) -> None:
        errors = [p for p in problems if p.severity == "error"]
        first = errors[0] if errors else problems[0]
        super().__init__(
            "; ".join(str(p) for p in errors) or str(first),
            code="validation_failed",
            field=first.field,
            row=first.row,
            problems=problems,
        )


class NotFound(TepatError):
    http_status = 404

    def __init__(self, message: str = "Tidak ditemukan / not found") -> None:
        super().__init__(message, code="not_found")


class PermissionDenied(TepatError):
    http_status = 403

    def __init__(self, message: str = "Akses ditolak / access denied") -> None:
        super().__init__(message, code="forbidden")


@dataclass
class Problems:
    """Collects problems while validating a record, then raises once with all of them."""

    items: list[FieldProblem] = field(default_factory=list)

    def error(self, field_name: str, code: str, message: str, row: int | None = None) -> None:
        self.items.append(FieldProblem(field_name, code, message, row, "error"))

    def warning(self, field_name: str, code: str, message: str, row: int | None = None) -> None:
        self.items.append(FieldProblem(field_name, code, message, row, "warning"))

    @property
    def errors(self) -> list[FieldProblem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[FieldProblem]:
        return [p for p in self.items if p.severity == "warning"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise ValidationFailed(self.items)
