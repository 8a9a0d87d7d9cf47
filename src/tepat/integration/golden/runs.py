"""How a link run (full or incremental) ends: done with its statistics and an audit event, or
failed with its error for the link-run page to show."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils import timezone

from tepat.core.audit import audit_record
from tepat.integration.models import LinkRun

if TYPE_CHECKING:
    from tepat.accounts.models import User


def run_done(run: LinkRun, *, stats: dict[str, Any]) -> None:
    run.stats = stats
    run.status = LinkRun.Status.DONE
    run.finished_at = timezone.now()
    run.save()


def run_failed(run: LinkRun, exc: Exception) -> None:
    # An update, not a save: the run object may hold half-applied fields from the failed step.
    LinkRun.objects.filter(pk=run.pk).update(
        status=LinkRun.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
    )


def run_audit(run: LinkRun, *, acting_user: User | None) -> None:
    audit_record(
        actor=acting_user,
        action="integration.link",
        target_type="link_run",
        target_id=run.public_id,
        detail={k: v for k, v in run.stats.items() if isinstance(v, (int, float, str))},
    )
