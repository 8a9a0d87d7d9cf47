"""The grievance backlog (complaints and usul/sanggah verification tasks), read through one
function from the grievances app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GrievanceBacklog:
    open: int = 0
    overdue: int = 0  # past their response deadline


def grievance_backlog(*, user: Any = None, region_code: str = "") -> GrievanceBacklog:
    """Open grievances and deadline breaches within the user's regions."""
    from tepat.grievances.selectors import backlog_summary

    summary = backlog_summary(user=user, region_code=region_code)
    return GrievanceBacklog(
        open=int(summary.get("open", 0)) + int(summary.get("tasks_open", 0)),
        overdue=int(summary.get("overdue", 0)) + int(summary.get("tasks_overdue", 0)),
    )
