"""The retention schedule applied: `retention_purge` deletes or anonymises what is past its time.

The schedule is data (the `Retention` rules each app declares, `tepat.privacy.declarations`).
For every DELETE and ANONYMISE rule the purge works through the due rows in primary-key order,
one batch per transaction, so a purge that is stopped keeps what it did and the next run carries
on; running it twice changes nothing the second time. A rule's files (evidence photos) are
removed after their rows' transaction commits, and only when no remaining row points at them.
MANUAL rules (the append-only audit trail) are counted, never touched. The report gives, per
rule, the rows it governs before and after, how many were due and processed, and the oldest row
kept; the audit event of a purge holds only those counts.

Payments, ledger entries, entitlements, vouchers and handovers have KEEP rules: nothing here
can delete what the ledger or the financial record needs.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import DatabaseError, models, transaction
from django.db.models import Count, Min, ProtectedError, Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from tepat.core.audit import audit_record
from tepat.core.declarations import PURGED_ACTIONS, Action, Retention
from tepat.core.errors import TepatError
from tepat.privacy.declarations import collect, field_at

if TYPE_CHECKING:
    from tepat.accounts.models import User


SYSTEM = SimpleNamespace(username="system:privacy-purge")  # the actor of a scheduled purge
DEFAULT_BATCH = 100_000
AUDIT_ACTION = "privacy.purge"


@dataclass
class RuleResult:
    key: str
    model: str
    action: str
    keep_days: int
    cutoff: str  # ISO 8601, UTC: rows older than this are due
    before: int = 0  # rows the rule governs, before the purge
    due: int = 0  # of those, past the cutoff (and, for anonymise, not anonymised yet)
    processed: int = 0  # deleted or anonymised (0 in a dry run and for MANUAL rules)
    after: int = 0  # rows the rule governs after the purge (anonymised rows stay)
    due_after: int = 0  # due rows left (0 after a good run; = due in a dry run)
    oldest_kept: str | None = None  # the oldest timestamp among the rows not due
    files_deleted: int = 0
    seconds: float = 0.0  # the time this rule took, counting included
    error: str = ""


@dataclass
class PurgeReport:
    dry_run: bool
    started_at: str
    finished_at: str = ""
    results: list[RuleResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(r.error for r in self.results)

    @property
    def processed(self) -> int:
        return sum(r.processed for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "ok": self.ok,
            "processed": self.processed,
            "rules": [asdict(r) for r in self.results],
        }


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _cutoff(rule: Retention, model: type[models.Model], now: dt.datetime) -> Any:
    """`now - keep`, as a date when the timestamp is a DateField (not a DateTimeField)."""
    cutoff = now - rule.keep
    ts = field_at(model, rule.timestamp)
    if isinstance(ts, models.DateField) and not isinstance(ts, models.DateTimeField):
        return cutoff.date()
    return cutoff


def governed(rule: Retention) -> QuerySet[Any]:
    """The rows a rule is about (its `where` and `exclude`), whatever their age."""
    model = apps.get_model(rule.model)
    return model._base_manager.filter(**rule.where).exclude(**rule.exclude)


def older_than(model: type[models.Model], lookup: str, cutoff: Any) -> Q:
    """`lookup < cutoff` on `model`. A timestamp of a row the model points at becomes a subquery
    on that row's table (`run_id IN (SELECT id FROM importrun WHERE started_at < ...)`), so a
    batch's DELETE or UPDATE stays on its own table instead of joining the table to itself."""
    head, sep, rest = lookup.partition("__")
    if sep:
        f = model._meta.get_field(head)
        related = f.related_model
        forward = f.concrete and (f.many_to_one or f.one_to_one)
        if forward and isinstance(related, type) and issubclass(related, models.Model):
            parents = related._base_manager.filter(older_than(related, rest, cutoff))
            return Q(**{f"{head}__in": parents.values("pk")})
    return Q(**{f"{lookup}__lt": cutoff})


def _due_q(rule: Retention, model: type[models.Model], cutoff: Any) -> Q:
    q = older_than(model, rule.timestamp, cutoff)
    if rule.action == Action.ANONYMISE:
        q &= ~Q(**rule.anonymise)  # already anonymised: nothing left to do
    return q


def due_rows(rule: Retention, now: dt.datetime) -> QuerySet[Any]:
    """The rows past their period that the purge would process."""
    model = apps.get_model(rule.model)
    return governed(rule).filter(_due_q(rule, model, _cutoff(rule, model, now)))


def _tally(rule: Retention, cutoff: Any) -> dict[str, Any]:
    """One pass over the rule's rows: how many it governs, how many are due, and the oldest
    timestamp among those that are not."""
    model = apps.get_model(rule.model)
    return governed(rule).aggregate(
        rows=Count("pk"),
        due=Count("pk", filter=_due_q(rule, model, cutoff)),
        oldest=Min(rule.timestamp, filter=Q(**{f"{rule.timestamp}__gte": cutoff})),
    )


def _remove_files(rule: Retention, paths: Sequence[str]) -> int:
    """Delete each file no remaining row of the rule's model points at; the count removed."""
    if not rule.file_field:
        return 0
    root = Path(import_string(rule.file_root)()).resolve()
    model = apps.get_model(rule.model)
    removed = 0
    for rel in sorted({p for p in paths if p}):
        if model._base_manager.filter(**{rule.file_field: rel}).exists():
            continue  # another row (a resubmitted photo) still needs it
        target = (root / rel).resolve()
        if root not in target.parents:
            continue  # never outside the folder, whatever the column says
        try:
            target.unlink()
        except FileNotFoundError:
            continue
        removed += 1
    return removed


def _apply(
    rule: Retention, now: dt.datetime, *, batch: int, tick: Callable[[int], object]
) -> tuple[int, int]:
    """Delete or anonymise the rule's due rows, one batch per transaction: (rows, files).

    Batches walk the primary key upwards from the last one done (keyset): each finds the key
    that ends the next `batch` due rows, then changes the due rows up to it in one statement,
    so no batch scans again over the rows, or the dead index entries, of the batches before."""
    done = files = 0
    after: Any = None
    while True:
        due = due_rows(rule, now)
        if after is not None:
            due = due.filter(pk__gt=after)
        last = list(due.order_by("pk").values_list("pk", flat=True)[batch - 1 : batch])
        chunk = due.filter(pk__lte=last[0]) if last else due
        with transaction.atomic():
            paths = list(chunk.values_list(rule.file_field, flat=True)) if rule.file_field else []
            if rule.action == Action.DELETE:
                n = chunk.delete()[1].get(rule.model, 0)
            else:
                n = chunk.update(**rule.anonymise)
        files += _remove_files(rule, paths)
        done += n
        tick(n)
        if not last:
            return done, files
        after = last[0]


def retention_purge(
    *,
    acting_user: User | None = None,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    batch: int = DEFAULT_BATCH,
    only: Sequence[str] = (),
    progress: bool = False,
) -> PurgeReport:
    """Apply the retention schedule. Refuses (DeclarationError) when any declaration is wrong.

    `only`: rule keys to apply (all when empty; an unknown key is refused). `dry_run`: count
    what is due and change nothing (no audit event either). Otherwise one audit event
    `privacy.purge` records the counts of each rule, and nothing else."""
    from tqdm import tqdm

    register = collect()
    now = now or timezone.now()
    rules = [r for r in register.retention if r.action not in (Action.KEEP, Action.EXPIRES)]
    unknown = sorted(set(only) - {r.key for r in rules})
    if unknown:
        raise TepatError(f"no purge rule named {', '.join(unknown)}", code="unknown_rule")
    if only:
        rules = [r for r in rules if r.key in set(only)]
    report = PurgeReport(dry_run=dry_run, started_at=_iso(now) or "")
    for rule in rules:
        model = apps.get_model(rule.model)
        cutoff = _cutoff(rule, model, now)
        result = RuleResult(
            key=rule.key,
            model=rule.model,
            action=str(rule.action),
            keep_days=rule.keep.days,
            cutoff=_iso(cutoff) or "",
        )
        report.results.append(result)
        started = time.perf_counter()
        tally = _tally(rule, cutoff)
        result.before, result.due = tally["rows"], tally["due"]
        if rule.action in PURGED_ACTIONS and not dry_run and result.due:
            with tqdm(total=result.due, unit="rows", desc=rule.key, disable=not progress) as bar:

                def tick(n: int, bar: Any = bar, result: RuleResult = result) -> None:
                    result.processed += n  # what committed, even if a later batch fails
                    bar.update(n)

                try:
                    _rows, result.files_deleted = _apply(rule, now, batch=max(1, batch), tick=tick)
                except (ProtectedError, DatabaseError) as exc:
                    result.error = f"{type(exc).__name__}: {exc}"[:500]
        if result.processed or result.error:
            tally = _tally(rule, cutoff)
        result.after, result.due_after = tally["rows"], tally["due"]
        result.oldest_kept = _iso(tally["oldest"])
        result.seconds = round(time.perf_counter() - started, 3)
    report.finished_at = _iso(timezone.now()) or ""
    if not dry_run:
        audit_record(
            actor=acting_user if acting_user is not None else SYSTEM,
            action=AUDIT_ACTION,
            target_type="retention",
            detail={
                "ok": report.ok,
                "rules": {
                    r.key: {"due": r.due, "processed": r.processed, "files": r.files_deleted}
                    for r in report.results
                },
            },
        )
    return report


def last_purge() -> dict[str, Any] | None:
    """When the last purge ran and its counts per rule (from its audit event), or None."""
    from tepat.core.models import AuditEvent

    event = AuditEvent.objects.filter(action=AUDIT_ACTION).order_by("-at", "-id").first()
    if event is None:
        return None
    return {"at": event.at, "actor": event.actor_label, **(event.detail or {})}
