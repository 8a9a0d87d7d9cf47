"""Writes for programmes and cycles: keyword-only, one transaction, an acting user, an audit event.

Cycle states (OpenG2P): draft -> to_approve -> approved -> distributed -> ended, and cancelled
from any state before distribution (here before approval; after approval payments owns the
cycle and moves it through the small interface below `cycle_cancel`).

Maker-checker: whoever wrote or changed the programme, or created, computed, amended or submitted
a cycle cannot approve it (`cycle_makers`), nor can someone who managed staff accounts lately or
whose account one of the makers created or changed (tepat.accounts.duties); only supervisors and
admins approve. Every service acts only on cycles whose region lies inside the acting user's
scopes (tepat.accounts.scoping).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from tepat.accounts import duties, scoping
from tepat.accounts.models import Role
from tepat.core.audit import audit_record
from tepat.core.errors import FieldProblem, NotFound, PermissionDenied, TepatError, ValidationFailed
from tepat.core.money import format_rupiah
from tepat.programs import calc
from tepat.programs.eligibility import households_admitted, rule_check
from tepat.programs.models import (
    Cycle,
    CycleEvent,
    CycleState,
    Entitlement,
    EntitlementState,
    Programme,
    ProgrammeKind,
)

if TYPE_CHECKING:
    from tepat.accounts.models import User


S = CycleState
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.TO_APPROVE, S.CANCELLED}),
    S.TO_APPROVE: frozenset({S.DRAFT, S.APPROVED, S.CANCELLED}),
    S.APPROVED: frozenset({S.DISTRIBUTED, S.CANCELLED}),
    S.DISTRIBUTED: frozenset({S.ENDED}),
    S.ENDED: frozenset(),
    S.CANCELLED: frozenset(),
}
PREPARERS = frozenset({Role.ADMIN, Role.OPERATOR, Role.SUPERVISOR})
APPROVERS = frozenset({Role.ADMIN, Role.SUPERVISOR})
_BATCH = 5000


class InvalidTransition(TepatError):
    http_status = 409

    def __init__(self, cycle: Cycle, to: str) -> None:
        super().__init__(
            f"Tahap berstatus {_state_label(cycle.state, 'id')} tidak dapat menjadi "
            f"{_state_label(to, 'id')} / a cycle that is {_state_label(cycle.state, 'en')} "
            f"cannot become {_state_label(to, 'en')}",
            code="invalid_transition",
            field="state",
        )


# Refusals of a change that keeps the state name what was refused instead of a target state.
_PSEUDO_TARGETS = {
    "draft (recompute)": {"id": "dihitung ulang (hanya draf)", "en": "recomputed (drafts only)"},
    "draft (amend)": {"id": "diubah haknya (hanya draf)", "en": "amended (drafts only)"},
    "draft (cancel entitlement)": {
        "id": "dibatalkan haknya (hanya draf)",
        "en": "have an entitlement cancelled (drafts only)",
    },
}


def _state_label(state: str, language: str) -> str:
    """A state's label in one language ("Menunggu persetujuan" / "Waiting for approval"), for
    messages that carry both; a target that is not a state ("draft (amend)") stays as it is."""
    from django.utils import translation

    if state not in CycleState.values:
        return _PSEUDO_TARGETS.get(state, {}).get(language, state)
    with translation.override(language):
        return str(CycleState(state).label)


def _role(user: Any) -> str:
    if getattr(user, "is_superuser", False):
        return str(Role.ADMIN)
    return str(getattr(user, "role", ""))


def _require(user: Any, roles: frozenset[str], what: str) -> None:
    if not getattr(user, "is_authenticated", False) or _role(user) not in roles:
        # `what` is "Indonesian / English": each half goes to its own language.
        what_id, _, what_en = what.partition(" / ")
        raise PermissionDenied(
            f"Peran Anda tidak boleh {what_id} / your role may not {what_en or what_id}"
        )


def _label(user: Any) -> str:
    return str(getattr(user, "username", "") or "system")


def ledger_append(*, kind: str, body: Mapping[str, Any], ref: str = "") -> None:
    """The hook through which programmes write to the transparency log (in the caller's
    transaction, so an entry exists if and only if the change commits)."""
    from tepat.ledger.services import ledger_enqueue

    ledger_enqueue(kind=kind, body=body, ref=ref)


def _event(
    cycle: Cycle, *, actor: Any, action: str, to: str = "", reason: str = "", **detail: Any
) -> None:
    CycleEvent.objects.create(
        cycle=cycle,
        at=timezone.now(),
        action=action,
        from_state=cycle.state,
        to_state=to,
        reason=reason,
        detail=detail,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=_label(actor),
    )


def _locked(cycle: Cycle) -> Cycle:
    try:
        return Cycle.objects.select_for_update().select_related("programme").get(pk=cycle.pk)
    except Cycle.DoesNotExist:
        raise NotFound() from None


def _move(
    cycle: Cycle, *, to: str, actor: Any, action: str, reason: str = "", **detail: Any
) -> None:
    if to not in TRANSITIONS[cycle.state]:
        raise InvalidTransition(cycle, to)
    _event(cycle, actor=actor, action=action, to=to, reason=reason, **detail)
    cycle.state = to
    cycle.save(update_fields=["state", "updated_at", "prepared_by", "submitted_by",
                              "approved_by", "approved_at"])  # fmt: skip
    audit_record(
        actor=actor,
        action=f"cycle.{action}",
        target_type="cycle",
        target_id=cycle.public_id,
        detail={"to": to, "reason": reason, **detail},
    )


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            [FieldProblem("reason", "required", "Alasan wajib diisi / a reason is required")]
        )
    return reason


# --- programmes ----------------------------------------------------------------------------


def programme_create(
    *,
    acting_user: User,
    code: str,
    name: str,
    kind: str,
    eligibility_rule: str,
    effective_from: dt.date,
    effective_to: dt.date | None = None,
    params: Mapping[str, Any] | None = None,
) -> Programme:
    _require(acting_user, APPROVERS, "membuat program / create programmes")
    if kind not in ProgrammeKind.values:
        raise ValidationFailed(
            [FieldProblem("kind", "unknown_code", f"jenis {kind!r} tidak dikenal")]
        )
    rule_check(eligibility_rule)
    merged = calc.params_validate(kind, params or {})
    if effective_to is not None and effective_to < effective_from:
        raise ValidationFailed(
            [
                FieldProblem(
                    "effective_to", "bad_range", "berakhir sebelum mulai / ends before it starts"
                )
            ]
        )
    with transaction.atomic():
        if Programme.objects.filter(code=code).exists():
            raise ValidationFailed(
                [FieldProblem("code", "duplicate", f"kode {code!r} sudah ada / already exists")]
            )
        prog = Programme.objects.create(
            code=code,
            name=name,
            kind=kind,
            eligibility_rule=eligibility_rule,
            params=merged,
            effective_from=effective_from,
            effective_to=effective_to,
            created_by=acting_user,
        )
        audit_record(actor=acting_user, action="programme.create", target_type="programme",
                     target_id=prog.public_id, detail={"code": code, "params": merged})  # fmt: skip
    return prog


def programme_update(
    *,
    acting_user: User,
    programme: Programme,
    name: str | None = None,
    eligibility_rule: str | None = None,
    params: Mapping[str, Any] | None = None,
    effective_to: dt.date | None = None,
) -> Programme:
    """Change a programme's rule, amounts, name or end date, before any cycle was computed
    with it (a computed cycle froze them; a later year's amounts are a new programme row).
    The author becomes a maker of every cycle of the programme: they cannot approve one."""
    _require(acting_user, APPROVERS, "mengubah program / change programmes")
    with transaction.atomic():
        prog = Programme.objects.select_for_update().get(pk=programme.pk)
        if prog.cycles.exclude(state=S.CANCELLED).filter(computed_at__isnull=False).exists():
            raise TepatError(
                "Program sudah dipakai menghitung tahap; buat versi baru / a cycle was computed "
                "with this programme: create a new version instead",
                code="programme_in_use",
            )
        before = {"name": prog.name, "eligibility_rule": prog.eligibility_rule,
                  "params": prog.params, "effective_to": str(prog.effective_to or "")}  # fmt: skip
        if eligibility_rule is not None:
            rule_check(eligibility_rule)
            prog.eligibility_rule = eligibility_rule
        if params is not None:
            prog.params = calc.params_validate(prog.kind, params)
        if name is not None:
            prog.name = name
        if effective_to is not None:
            if effective_to < prog.effective_from:
                raise ValidationFailed([FieldProblem(
                    "effective_to", "bad_range", "berakhir sebelum mulai / ends before it starts")])  # fmt: skip
            prog.effective_to = effective_to
        prog.updated_at = timezone.now()
        prog.updated_by = acting_user
        prog.save()
        after = {"name": prog.name, "eligibility_rule": prog.eligibility_rule,
                 "params": prog.params, "effective_to": str(prog.effective_to or "")}  # fmt: skip
        audit_record(actor=acting_user, action="programme.update", target_type="programme",
                     target_id=prog.public_id, detail={"before": before, "after": after})  # fmt: skip
    return prog


# --- cycles --------------------------------------------------------------------------------


def cycle_create(
    *,
    acting_user: User,
    programme: Programme,
    code: str,
    instalment: int,
    period_start: dt.date,
    period_end: dt.date,
    control_count: int,
    control_amount: int,
    region_code: str | None = None,
) -> Cycle:
    """A draft cycle of `programme` for `region_code` (a region code prefix, "" = national;
    None = the maker's own single scope, or national for an admin)."""
    _require(acting_user, PREPARERS, "menyiapkan tahap / prepare cycles")
    region = _cycle_region(acting_user, region_code)
    scoping.require_region_action(acting_user, region, "menyiapkan tahap / prepare cycles")
    problems: list[FieldProblem] = []
    if period_end < period_start:
        problems.append(
            FieldProblem(
                "period_end", "bad_range", "berakhir sebelum mulai / ends before it starts"
            )
        )
    if period_start < programme.effective_from or (
        programme.effective_to is not None and period_end > programme.effective_to
    ):
        problems.append(FieldProblem("period_start", "outside_programme",
                                     "di luar masa berlaku program / outside the programme's dates"))  # fmt: skip
    if control_count < 0 or control_amount < 0:
        problems.append(
            FieldProblem(
                "control_amount",
                "bad_amount",
                "total kontrol negatif / control totals are negative",
            )
        )
    if problems:
        raise ValidationFailed(problems)
    with transaction.atomic():
        if Cycle.objects.filter(programme=programme, code=code).exists():
            raise ValidationFailed(
                [FieldProblem("code", "duplicate", f"tahap {code!r} sudah ada / already exists")]
            )
        cycle = Cycle.objects.create(
            programme=programme,
            code=code,
            region_code=region,
            created_by=acting_user,
            instalment=instalment,
            period_start=period_start,
            period_end=period_end,
            control_count=control_count,
            control_amount=control_amount,
        )
        _event(cycle, actor=acting_user, action="create", to=S.DRAFT, region=region,
               control_count=control_count, control_amount=control_amount)  # fmt: skip
        audit_record(actor=acting_user, action="cycle.create", target_type="cycle",
                     target_id=cycle.public_id, region_code=region,
                     detail={"programme": programme.code, "code": code, "region": region,
                             "control_count": control_count, "control_amount": control_amount})  # fmt: skip
    return cycle


def _cycle_region(user: Any, region_code: str | None) -> str:
    if region_code is None:
        default = scoping.default_cycle_region(user)
        if default is None:
            raise ValidationFailed([FieldProblem(
                "region_code", "required",
                "Pilih wilayah tahap / name the cycle's region (you have several scopes)")])  # fmt: skip
        return default
    from tepat.regions.selectors import region_exists

    region = region_code.strip().replace(".", "")
    if region and (not region.isdigit() or not region_exists(region)):
        raise ValidationFailed([FieldProblem(
            "region_code", "invalid_region",
            f"Kode wilayah {region} tidak dikenal / unknown region code (Kemendagri, undotted)")])  # fmt: skip
    return region


_SCAN_ABOVE = 50_000  # above this many households, one sequential scan beats IN-lists


def _pairs(
    model: Any, ids: np.ndarray[Any, Any], key: str, value: str, **where: Any
) -> dict[int, str]:
    """{key: value} for rows whose `key` is in `ids`: IN-lists for a few, one scan for many."""
    out: dict[int, str] = {}
    qs = model.objects.filter(**where).order_by().values_list(key, value)
    wanted = ids.tolist()
    if len(wanted) <= _SCAN_ABOVE:
        for i in range(0, len(wanted), 10_000):
            out.update(qs.filter(**{f"{key}__in": wanted[i : i + 10_000]}))
        return out
    keep = set(wanted)
    for k, v in qs.iterator(chunk_size=50_000):
        if k in keep:
            out[k] = v
    return out


def _heads(household_ids: np.ndarray[Any, Any]) -> dict[int, str]:
    from tepat.registry.models import Person

    return _pairs(Person, household_ids, "household_id", "public_id", relationship="head",
                  deceased_on__isnull=True, erased_at__isnull=True)  # fmt: skip


def _household_refs(ids: np.ndarray[Any, Any]) -> dict[int, str]:
    from tepat.registry.models import Household

    return _pairs(Household, ids, "id", "public_id")


def cycle_compute(
    *,
    acting_user: User,
    cycle: Cycle,
    on: dt.date | None = None,
    desil: Mapping[int, int] | None = None,
) -> Cycle:
    """Compute and freeze the entitlement list of a draft cycle.

    The whole list is refused (nothing written) when it would exceed the cycle's control totals.
    `desil` (household id -> desil) overrides targeting's scores: see programs/eligibility.py.
    """
    _require(acting_user, PREPARERS, "menyiapkan tahap / prepare cycles")
    scoping.require_cycle_action(acting_user, cycle, "menghitung tahap / compute cycles")
    on = on or cycle.period_start
    programme = cycle.programme
    params = calc.params_validate(programme.kind, programme.params)
    admitted = households_admitted(
        expression=programme.eligibility_rule, on=on, desil=desil, region_code=cycle.region_code
    )
    ids = admitted.household_id
    n = len(ids)
    if programme.kind == ProgrammeKind.PKH:
        counts = calc.pkh_counts(ids, on, int(params["elderly_age"]))
        amounts = calc.pkh_amounts(params, counts, n)
    else:
        counts = {}
        amounts = np.full(n, calc.flat_amount(params), dtype=np.int64)
    heads = _heads(ids)
    keep = np.array(
        [a > 0 and int(h) in heads for a, h in zip(amounts, ids, strict=True)], dtype=bool
    )
    ids, amounts, villages, desils = (
        ids[keep],
        amounts[keep],
        admitted.village_code[keep],
        admitted.desil[keep],
    )
    counts = {k: v[keep] for k, v in counts.items()}
    total = int(amounts.sum())
    if len(ids) > cycle.control_count or total > cycle.control_amount:
        raise ValidationFailed([FieldProblem(
            "control_totals", "exceeds_control_totals",
            f"Daftar ditolak seluruhnya: {len(ids)} penerima, {format_rupiah(total)} melebihi "
            f"total kontrol {cycle.control_count} penerima, {format_rupiah(cycle.control_amount)} "
            f"/ the whole list is refused: {len(ids)} beneficiaries, {format_rupiah(total)} exceed "
            f"the control totals of {cycle.control_count}, {format_rupiah(cycle.control_amount)}",
        )])  # fmt: skip
    refs = _household_refs(ids)
    with transaction.atomic():
        locked = _locked(cycle)
        if locked.state != S.DRAFT:
            raise InvalidTransition(locked, "draft (recompute)")
        Entitlement.objects.filter(cycle=locked).delete()
        comp_names = list(counts)
        rows: list[tuple[Any, ...]] = []
        digest_rows: list[tuple[str, str, int]] = []
        public_ids = public_ids_bulk(len(ids))
        state = str(EntitlementState.PENDING_VALIDATION)
        for j, hid in enumerate(ids.tolist()):
            inputs: dict[str, Any] = {}
            if comp_names:
                inputs["c"] = {k: int(counts[k][j]) for k in comp_names if counts[k][j]}
            if not np.isnan(desils[j]):
                inputs["desil"] = int(desils[j])
            amount = int(amounts[j])
            rows.append((public_ids[j], locked.pk, hid, refs[hid], heads[hid], str(villages[j]),
                         amount, inputs, state, ""))  # fmt: skip
            digest_rows.append((refs[hid], heads[hid], amount))
        _insert_entitlements(rows)
        locked.entitled_count = len(ids)
        locked.entitled_amount = total
        locked.computed_at = timezone.now()
        locked.snapshot_on = on
        locked.frozen_params = params
        locked.frozen_rule = programme.eligibility_rule
        locked.list_digest = calc.list_digest(digest_rows)
        locked.prepared_by = acting_user
        locked.save()
        _event(locked, actor=acting_user, action="compute", count=len(ids), amount=total,
               digest=locked.list_digest)  # fmt: skip
        audit_record(actor=acting_user, action="cycle.compute", target_type="cycle",
                     target_id=locked.public_id,
                     detail={"count": len(ids), "amount": total, "digest": locked.list_digest})  # fmt: skip
    return locked


_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


def public_ids_bulk(n: int, length: int = 16) -> list[str]:
    """`n` random public ids (tepat.core.ids alphabet) at once: per-character `secrets.choice`
    costs seconds at a million rows. Bytes >= 248 are rejected so each letter is uniform."""
    alphabet = np.frombuffer(_ALPHABET.encode(), dtype=np.uint8)
    out = np.empty(0, dtype=np.uint8)
    need = n * length
    while len(out) < need:
        raw = np.frombuffer(os.urandom(int((need - len(out)) * 1.1) + 64), dtype=np.uint8)
        out = np.concatenate([out, raw[raw < 248]])
    letters = alphabet[out[:need] % len(_ALPHABET)].tobytes().decode()
    return [letters[i * length : (i + 1) * length] for i in range(n)]


_ENTITLEMENT_COLUMNS = (
    "public_id", "cycle_id", "household_id", "household_ref", "beneficiary_ref", "village_code",
    "amount", "inputs", "state", "reason",
)  # fmt: skip


def _insert_entitlements(rows: list[tuple[Any, ...]]) -> None:
    """Bulk insert; on PostgreSQL through COPY (a million rows in seconds, not minutes)."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Entitlement._meta.db_table)
        cols = ", ".join(connection.ops.quote_name(c) for c in _ENTITLEMENT_COLUMNS)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy,
        ):
            for r in rows:
                copy.write_row((*r[:7], json.dumps(r[7]), *r[8:]))
        return
    for i in range(0, len(rows), _BATCH):
        Entitlement.objects.bulk_create(
            [
                Entitlement(**dict(zip(_ENTITLEMENT_COLUMNS, r, strict=True)))
                for r in rows[i : i + _BATCH]
            ]
        )


def cycle_recompute_frozen(*, cycle: Cycle) -> tuple[str, list[str]]:
    """Recompute every amount from the frozen inputs and params: (digest, mismatching ids).

    A frozen cycle reproduces exactly when the digest equals `cycle.list_digest` and the list of
    mismatches is empty, whatever happened to the registry since.
    """
    kind = cycle.programme.kind
    rows: list[tuple[str, str, int]] = []
    bad: list[str] = []
    qs = cycle.entitlements.exclude(state=EntitlementState.CANCELLED).order_by("id")
    for e in qs.values("public_id", "household_ref", "beneficiary_ref", "amount", "inputs",
                       "reason").iterator(chunk_size=10_000):  # fmt: skip
        again = calc.amount_for(kind, cycle.frozen_params, e["inputs"])
        amended = "amended_amount" in e["inputs"]
        expected = int(e["inputs"]["amended_amount"]) if amended else again
        if expected != e["amount"]:
            bad.append(e["public_id"])
        rows.append((e["household_ref"], e["beneficiary_ref"], expected))
    return calc.list_digest(rows), bad


def cycle_submit(*, acting_user: User, cycle: Cycle) -> Cycle:
    _require(acting_user, PREPARERS, "mengajukan tahap / submit cycles")
    scoping.require_cycle_action(acting_user, cycle, "mengajukan tahap / submit cycles")
    with transaction.atomic():
        c = _locked(cycle)
        if c.state == S.DRAFT and c.computed_at is None:
            raise ValidationFailed([FieldProblem("entitlements", "not_computed",
                                                 "hitung hak dulu / compute entitlements first")])  # fmt: skip
        c.submitted_by = acting_user
        _move(c, to=S.TO_APPROVE, actor=acting_user, action="submit")
    return c


MAKING_ACTIONS = ("create", "compute", "amend", "cancel_entitlement", "submit")


def cycle_makers(c: Cycle) -> set[int]:
    """Everyone who made what an approval approves: the programme's author and whoever changed
    its rule or amounts, the cycle's creator (control totals), and whoever ever computed,
    amended or submitted it (not only the last: a recompute does not launder an earlier maker)."""
    from tepat.core.models import AuditEvent

    makers = {c.programme.created_by_id, c.programme.updated_by_id, c.created_by_id,
              c.prepared_by_id, c.submitted_by_id}  # fmt: skip
    makers.update(
        c.events.filter(action__in=MAKING_ACTIONS, actor__isnull=False).values_list(
            "actor_id", flat=True
        )
    )
    makers.update(
        AuditEvent.objects.filter(
            target_type="programme", target_id=c.programme.public_id, actor__isnull=False,
            action__in=["programme.create", "programme.update"],
        ).values_list("actor_id", flat=True)
    )  # fmt: skip
    return {m for m in makers if m is not None}


def _maker_checker(c: Cycle, approver: Any) -> None:
    makers = cycle_makers(c)
    if approver.pk in makers:
        raise PermissionDenied(
            "Pembuat program atau tahap tidak boleh menyetujuinya sendiri / "
            "whoever made the programme or the cycle cannot approve it (maker-checker)"
        )
    if duties.managed_staff_since(approver):
        raise PermissionDenied(
            f"Anda mengelola akun staf dalam {duties.sod_days()} hari terakhir dan tidak boleh "
            f"menyetujui pembayaran / you managed staff accounts in the last "
            f"{duties.sod_days()} days and may not approve money (separation of duties)"
        )
    if duties.account_changed_by(approver, makers):
        raise PermissionDenied(
            "Akun Anda dibuat atau diubah oleh pembuat tahap ini / your account was created or "
            "changed by one of this cycle's makers: you may not approve it (maker-checker)"
        )


def cycle_approve(*, acting_user: User, cycle: Cycle) -> Cycle:
    _require(acting_user, APPROVERS, "menyetujui tahap / approve cycles")
    scoping.require_cycle_action(acting_user, cycle, "menyetujui tahap / approve cycles")
    with transaction.atomic():
        c = _locked(cycle)
        if c.state != S.TO_APPROVE:
            raise InvalidTransition(c, S.APPROVED)
        _maker_checker(c, acting_user)
        digest, bad = cycle_recompute_frozen(cycle=c)
        if bad or digest != c.list_digest:
            raise TepatError("Daftar hak berubah sejak dihitung / the entitlement list changed",
                             code="list_tampered")  # fmt: skip
        c.approved_by = acting_user
        c.approved_at = timezone.now()
        _move(c, to=S.APPROVED, actor=acting_user, action="approve", digest=c.list_digest)
        c.entitlements.filter(state=EntitlementState.PENDING_VALIDATION).update(
            state=EntitlementState.APPROVED
        )
        now = timezone.now()
        common = {"programme": c.programme.code, "cycle": c.code, "time": now}
        ledger_append(kind="cycle.approved", ref=c.public_id, body={
            **common, "beneficiaries": c.entitled_count, "total_amount": c.entitled_amount})  # fmt: skip
        ledger_append(kind="entitlements.published", ref=c.public_id, body={
            **common, "beneficiaries": c.entitled_count, "total_amount": c.entitled_amount,
            "list_digest": c.list_digest})  # fmt: skip
    return c


def cycle_return(*, acting_user: User, cycle: Cycle, reason: str) -> Cycle:
    """The checker sends a cycle back to draft, with a reason."""
    _require(acting_user, APPROVERS, "mengembalikan tahap / return cycles")
    scoping.require_cycle_action(acting_user, cycle, "mengembalikan tahap / return cycles")
    reason = _require_reason(reason)
    with transaction.atomic():
        c = _locked(cycle)
        if c.state != S.TO_APPROVE:
            raise InvalidTransition(c, S.DRAFT)
        _move(c, to=S.DRAFT, actor=acting_user, action="return", reason=reason)
    return c


class CancelThroughPayments(TepatError):
    http_status = 409

    def __init__(self) -> None:
        super().__init__(
            "Tahap yang sudah disetujui dibatalkan melalui penyaluran (POST "
            "/api/payments/cycles/{id}/cancel) / an approved cycle is cancelled through "
            "payments, which first stops its payments",
            code="cancel_through_payments",
        )


def cycle_cancel(*, acting_user: User, cycle: Cycle, reason: str) -> Cycle:
    """Cancel a cycle before approval (draft or waiting for approval). An approved cycle has
    payments, and only payments can stop them: it is cancelled through
    `tepat.payments.services.cycle_cancel`, which calls `cycle_mark_cancelled` below."""
    _require(acting_user, APPROVERS, "membatalkan tahap / cancel cycles")
    scoping.require_cycle_action(acting_user, cycle, "membatalkan tahap / cancel cycles")
    reason = _require_reason(reason)
    with transaction.atomic():
        c = _locked(cycle)
        if c.state == S.APPROVED:
            raise CancelThroughPayments()
        if c.state not in (S.DRAFT, S.TO_APPROVE):
            raise InvalidTransition(c, S.CANCELLED)
        _move(c, to=S.CANCELLED, actor=acting_user, action="cancel", reason=reason)
        c.entitlements.exclude(state=EntitlementState.PAID).update(
            state=EntitlementState.CANCELLED, reason=reason
        )
    return c


# --- the interface payments drives after approval ----------------------------------------
#
# After approval a cycle belongs to payments (tepat.payments.services), which calls these four
# inside its own transaction while it holds the cycle's lock: `entitlements_mark` (below) to
# follow payment outcomes, `cycle_mark_distributed`, `cycle_mark_cancelled` and `cycle_end`.
# Programs never calls payments: calls go one way.


def cycle_mark_distributed(*, acting_user: User, cycle: Cycle, summary: Mapping[str, Any]) -> Cycle:
    """approved -> distributed; called by payments once reconciliation is clean or every
    difference is explained."""
    _require(acting_user, APPROVERS, "menandai tersalurkan / mark distributed")
    with transaction.atomic():
        c = _locked(cycle)
        _move(c, to=S.DISTRIBUTED, actor=acting_user, action="distribute", **summary)
    return c


def cycle_mark_cancelled(
    *, acting_user: User, cycle: Cycle, reason: str, paid: int, paid_amount: int, cancelled: int
) -> Cycle:
    """approved -> cancelled; called by payments after it cancelled every payment that was not
    paid (`paid` payments stay paid, and so do their entitlements; every other entitlement is
    cancelled). The cancellation is appended to the transparency log like the approval was."""
    _require(acting_user, APPROVERS, "membatalkan tahap / cancel cycles")
    reason = _require_reason(reason)
    with transaction.atomic():
        c = _locked(cycle)
        if c.state != S.APPROVED:
            raise InvalidTransition(c, S.CANCELLED)
        _move(c, to=S.CANCELLED, actor=acting_user, action="cancel", reason=reason, paid=paid,
              paid_amount=paid_amount, cancelled_payments=cancelled)  # fmt: skip
        c.entitlements.exclude(state=EntitlementState.PAID).update(
            state=EntitlementState.CANCELLED, reason=reason
        )
        ledger_append(kind="cycle.cancelled", ref=c.public_id, body={
            "programme": c.programme.code, "cycle": c.code, "time": timezone.now(),
            "paid": paid, "paid_amount": paid_amount, "cancelled": cancelled})  # fmt: skip
    return c


def cycle_end(
    *, acting_user: User, cycle: Cycle, paid: int, paid_amount: int, failed: int
) -> Cycle:
    """distributed -> ended; called by payments' `cycle_close`."""
    _require(acting_user, APPROVERS, "menutup tahap / close cycles")
    with transaction.atomic():
        c = _locked(cycle)
        _move(c, to=S.ENDED, actor=acting_user, action="end", paid=paid, failed=failed)
        ledger_append(kind="cycle.closed", ref=c.public_id, body={
            "programme": c.programme.code, "cycle": c.code, "time": timezone.now(),
            "paid": paid, "paid_amount": paid_amount, "failed": failed})  # fmt: skip
    return c


# --- entitlements --------------------------------------------------------------------------


def entitlement_amend(
    *, acting_user: User, entitlement: Entitlement, amount: int, reason: str
) -> Entitlement:
    """Change one amount in a draft cycle, with a reason; still bound by the control totals."""
    _require(acting_user, PREPARERS, "mengubah hak / amend entitlements")
    scoping.require_cycle_action(acting_user, entitlement.cycle, "mengubah hak / amend")
    reason = _require_reason(reason)
    if amount < 0:
        raise ValidationFailed([FieldProblem("amount", "bad_amount", "jumlah negatif")])
    with transaction.atomic():
        c = _locked(entitlement.cycle)
        if c.state != S.DRAFT:
            raise InvalidTransition(c, "draft (amend)")
        e = Entitlement.objects.select_for_update().get(pk=entitlement.pk)
        new_total = c.entitled_amount - e.amount + amount
        if new_total > c.control_amount:
            raise ValidationFailed([FieldProblem("amount", "exceeds_control_totals",
                                                 "melebihi total kontrol / exceeds the control total")])  # fmt: skip
        before = e.amount
        e.amount = amount
        e.inputs = {**e.inputs, "amended_amount": amount}
        e.reason = reason
        e.save(update_fields=["amount", "inputs", "reason"])
        c.entitled_amount = new_total
        c.list_digest = cycle_recompute_frozen(cycle=c)[0]
        c.prepared_by = acting_user
        c.save(update_fields=["entitled_amount", "list_digest", "prepared_by", "updated_at"])
        _event(c, actor=acting_user, action="amend", reason=reason, entitlement=e.public_id,
               before=before, after=amount)  # fmt: skip
        audit_record(actor=acting_user, action="entitlement.amend", target_type="entitlement",
                     target_id=e.public_id, region_code=e.village_code,
                     detail={"before": before, "after": amount, "reason": reason})  # fmt: skip
    return e


def entitlement_cancel(*, acting_user: User, entitlement: Entitlement, reason: str) -> Entitlement:
    _require(acting_user, PREPARERS, "membatalkan hak / cancel entitlements")
    scoping.require_cycle_action(acting_user, entitlement.cycle, "membatalkan hak / cancel")
    reason = _require_reason(reason)
    with transaction.atomic():
        c = _locked(entitlement.cycle)
        if c.state != S.DRAFT:
            raise InvalidTransition(c, "draft (cancel entitlement)")
        e = Entitlement.objects.select_for_update().get(pk=entitlement.pk)
        if e.state == EntitlementState.CANCELLED:
            return e
        e.state = EntitlementState.CANCELLED
        e.reason = reason
        e.save(update_fields=["state", "reason"])
        c.entitled_count -= 1
        c.entitled_amount -= e.amount
        c.list_digest = cycle_recompute_frozen(cycle=c)[0]
        c.prepared_by = acting_user
        c.save(update_fields=["entitled_count", "entitled_amount", "list_digest", "prepared_by",
                              "updated_at"])  # fmt: skip
        _event(c, actor=acting_user, action="cancel_entitlement", reason=reason,
               entitlement=e.public_id, amount=e.amount)  # fmt: skip
        audit_record(actor=acting_user, action="entitlement.cancel", target_type="entitlement",
                     target_id=e.public_id, region_code=e.village_code, detail={"reason": reason})  # fmt: skip
    return e


def entitlements_mark(*, entitlement_ids: list[int], state: str) -> int:
    """Follow payment outcomes (sent, paid, rejected); called inside the payments transaction,
    which records the audit trail (the payment rows and the ledger). A cancelled entitlement
    stays cancelled whatever a payment says: a payment that moved money for it anyway is a
    reconciliation difference, never a silent flip back to paid."""
    if state not in EntitlementState.values:
        raise ValidationFailed([FieldProblem("state", "unknown_code", state)])
    n = 0
    for i in range(0, len(entitlement_ids), 5000):
        n += (
            Entitlement.objects.filter(id__in=entitlement_ids[i : i + 5000])
            .exclude(state=EntitlementState.CANCELLED)
            .update(state=state)
        )
    return n
