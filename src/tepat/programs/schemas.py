"""The cycle schemas that both the programmes API and the payments API answer with.

A cycle is created and approved in programs and distributed, closed or cancelled in payments;
both answer with the same CycleOut, so it lives here, below both API modules, and payments/api.py
imports it from here instead of from programs/api.py (an API module imports no other API module).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from tepat.programs.models import Cycle


class CycleOut(Schema):
    public_id: str
    programme: str
    code: str
    region_code: str
    instalment: int
    state: str
    period_start: dt.date
    period_end: dt.date
    control_count: int
    control_amount: int
    entitled_count: int
    entitled_amount: int
    list_digest: str
    created_by: str | None
    prepared_by: str | None
    submitted_by: str | None
    approved_by: str | None


class ReasonIn(Schema):
    reason: str = Field(pattern=r"\S")  # required: something besides spaces


def _name(user: Any) -> str | None:
    return user.username if user is not None else None


def cycle_out(c: Cycle) -> CycleOut:
    return CycleOut(
        public_id=c.public_id, programme=c.programme.code, code=c.code,
        region_code=c.region_code, instalment=c.instalment,
        state=c.state, period_start=c.period_start, period_end=c.period_end,
        control_count=c.control_count, control_amount=c.control_amount,
        entitled_count=c.entitled_count, entitled_amount=c.entitled_amount,
        list_digest=c.list_digest, created_by=_name(c.created_by), prepared_by=_name(c.prepared_by),
        submitted_by=_name(c.submitted_by), approved_by=_name(c.approved_by),
    )  # fmt: skip
