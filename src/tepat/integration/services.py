"""Writes of the integration app: sources, imports, corrections, review decisions, link runs."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tepat.accounts.models import Role
from tepat.accounts.scoping import can_edit_registry, can_see_region
from tepat.core.audit import audit_record
from tepat.core.errors import NotFound, PermissionDenied, TepatError
from tepat.integration import tasks
from tepat.integration.golden import link_run_execute
from tepat.integration.importing import (
    ImportResult,
    Progress,
    import_file,
    import_run_create,
    import_run_process,
    import_runs_reap_stale,
    quarantine_raw,
)
from tepat.integration.models import ImportRun, LinkRun, QuarantinedRow, ReviewPair, Source
from tepat.integration.sources import BUILTIN_SOURCES, SYNTH_FILES, config_check

if TYPE_CHECKING:
    from tepat.accounts.models import User


__all__ = [
    "import_file",
    "import_run_create",
    "import_run_process",
    "import_runs_reap_stale",
    "link_run_execute",
]


def _require_operator(acting_user: User | None) -> None:
    if acting_user is None:
        return  # system jobs from the command line
    if not can_edit_registry(acting_user):
        raise PermissionDenied()


def _require_admin(acting_user: User) -> None:
    """A link run rewrites golden records and flags in every region: admins only."""
    if acting_user is None:
        return
    if not (
        getattr(acting_user, "is_superuser", False)
        or getattr(acting_user, "role", None) == Role.ADMIN
    ):
        raise PermissionDenied()


class LinkRunBusy(TepatError):
    http_status = 409


def source_save(*, acting_user: User | None, config: dict[str, Any]) -> Source:
    """Create or update a source from its configuration (no code change needed)."""
    _require_operator(acting_user)
    cfg = config_check(config)
    with transaction.atomic():
        source, created = Source.objects.update_or_create(
            key=cfg["key"],
            defaults={"name": cfg["name"], "config": cfg, "precedence": int(cfg["precedence"])},
        )
        audit_record(
            actor=acting_user,
            action="integration.source_save",
            target_type="source",
            target_id=source.key,
            detail={"created": created},
        )
    return source


def sources_ensure_builtin(*, acting_user: User | None = None) -> list[Source]:
    """The five agency sources Tepat knows out of the box (kept if an operator edited them)."""
    out = []
    for cfg in BUILTIN_SOURCES:
        existing = Source.objects.filter(key=cfg["key"]).first()
        out.append(existing or source_save(acting_user=acting_user, config=cfg))
    return out


def _user_id(acting_user: User) -> int | None:
    """Tasks carry the acting user by id (their arguments are stored as JSON)."""
    return acting_user.pk if getattr(acting_user, "is_authenticated", False) else None


def upload_start(
    *,
    acting_user: User,
    source_key: str,
    file_name: str,
    data: bytes,
    delivered_on: dt.date | None = None,
) -> ImportResult:
    """Register an upload and queue it for the worker (tasks.import_run_task; run in the request
    with the immediate backend). The run records its progress for the pages to poll."""
    _require_operator(acting_user)
    created = import_run_create(
        acting_user=acting_user,
        source_key=source_key,
        file_name=file_name,
        data=data,
        delivered_on=delivered_on,
    )
    if created.duplicate:
        return created
    # The file holds NIKs in clear: it waits for the worker encrypted, never in the task's
    # arguments and never in a file on disk.
    tasks.upload_seal(run=created.run, data=data)
    tasks.import_run_task.enqueue(
        run_public_id=created.run.public_id, user_id=_user_id(acting_user)
    )
    created.run.refresh_from_db()  # the immediate backend has processed it already
    return created


def quarantine_resubmit(
    *, acting_user: User, run: ImportRun, corrections: dict[int, dict[str, str]]
) -> ImportResult:
    """Re-submit corrected quarantined rows ({quarantine row id: {column: value}}) as a new run
    of the same source; rows that pass leave the quarantine, the others stay with new reasons."""
    _require_operator(acting_user)
    rows = list(
        QuarantinedRow.objects.filter(
            run=run, status=QuarantinedRow.Status.OPEN, pk__in=list(corrections)
        )
    )
    if not rows:
        raise TepatError("Tidak ada baris untuk dikirim ulang / no rows to re-submit")
    for r in rows:
        if (
            r.village_code
            and acting_user is not None
            and not can_see_region(acting_user, r.village_code)
        ):
            raise PermissionDenied()
    raws = []
    for r in rows:
        raw = quarantine_raw(r)
        raw.update({k: v for k, v in corrections[r.pk].items() if k in raw})
        raws.append((r.row_number, raw))
    header = list(raws[0][1])
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["_row", *header])
    for number, raw in raws:
        writer.writerow([number, *(raw.get(h, "") for h in header)])
    data = buf.getvalue().encode("utf-8")
    # Keep the original row numbers: the resubmission reads them from the `_row` column.
    result = import_run_create(
        acting_user=acting_user,
        source_key=run.source.key,
        file_name=f"koreksi-{Path(run.file_name).stem}.csv",
        data=data,
        resubmission_of=run,
    )
    if result.duplicate:
        return result
    return import_run_process(acting_user=acting_user, run=result.run, data=data)


class AlreadyDecided(TepatError):
    """The pair was decided by someone else first (409): a decision is never silently replaced;
    the reviewer who decided can undo it (`review_reopen`)."""

    http_status = 409


def review_decide(*, acting_user: User, pair: ReviewPair, accept: bool) -> ReviewPair:
    """Record a clerical decision; later link runs honour it. Checked again under the row lock,
    so two reviewers deciding the same pair at once cannot both win."""
    _require_operator(acting_user)
    if (
        pair.village_code
        and acting_user is not None
        and not can_see_region(acting_user, pair.village_code)
    ):
        raise PermissionDenied()
    with transaction.atomic():
        pair = ReviewPair.objects.select_for_update().get(pk=pair.pk)
        if pair.status != ReviewPair.Status.OPEN:
            raise AlreadyDecided(
                "Pasangan sudah diputuskan / this pair has been decided already",
                code="already_decided",
            )
        pair.status = ReviewPair.Status.ACCEPTED if accept else ReviewPair.Status.REJECTED
        pair.decided_by = acting_user if getattr(acting_user, "is_authenticated", False) else None
        pair.decided_at = timezone.now()
        pair.save()
        audit_record(
            actor=acting_user,
            action="integration.review",
            target_type="review_pair",
            target_id=pair.public_id,
            region_code=pair.village_code,
            detail={"decision": pair.status},
        )
    return pair


def review_reopen(*, acting_user: User, pair: ReviewPair) -> ReviewPair:
    """Undo a clerical decision: the pair is open again. Only the reviewer who decided it may
    (the undo offered right after deciding); anyone else decides it anew through the queue."""
    _require_operator(acting_user)
    if pair.village_code and not can_see_region(acting_user, pair.village_code):
        raise PermissionDenied()
    with transaction.atomic():
        pair = ReviewPair.objects.select_for_update().get(pk=pair.pk)
        if pair.status == ReviewPair.Status.OPEN:
            return pair
        if pair.decided_by_id != acting_user.pk:
            raise PermissionDenied(
                "Hanya peninjau yang memutuskan yang dapat membatalkannya / "
                "only the reviewer who decided may undo it"
            )
        previous = pair.status
        pair.status = ReviewPair.Status.OPEN
        pair.decided_by = None
        pair.decided_at = None
        pair.save()
        audit_record(
            actor=acting_user,
            action="integration.review_undo",
            target_type="review_pair",
            target_id=pair.public_id,
            region_code=pair.village_code,
            detail={"decision": previous},
        )
    return pair


@dataclass
class BuildReport:
    imports: list[dict[str, Any]] = field(default_factory=list)
    link: dict[str, Any] = field(default_factory=dict)
    quarantined: int = 0
    review_pairs: int = 0


def integration_build_from_synth(
    *, synth_dir: Path, acting_user: User | None = None, progress: bool = True
) -> BuildReport:
    """`make demo`: import the synthetic agency sources of `tepat synth`, link them with the
    registry and apply golden records and flags. Safe to re-run (imports are no-ops)."""
    from tqdm import tqdm

    sources_ensure_builtin(acting_user=acting_user)
    report = BuildReport()
    for key, name in SYNTH_FILES.items():
        path = Path(synth_dir) / "sources" / name
        if not path.exists():
            continue
        bar = tqdm(total=0, disable=not progress, desc=f"import {key}", unit="rows")

        def tick(done: int, total: int, bar: Any = bar) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        result = import_file(
            acting_user=acting_user,
            source_key=key,
            file_name=name,
            data=path.read_bytes(),
            progress=tick,
        )
        bar.close()
        run = result.run
        report.imports.append(
            {
                "source": key,
                "accepted": run.accepted_rows,
                "rejected": run.rejected_rows,
                "duplicate": result.duplicate,
            }
        )
        report.quarantined += run.rejected_rows
    if progress:
        print("link: Splink (DuckDB) ...", flush=True)
    link = link_run_execute(acting_user=acting_user, progress=progress)
    report.link = link.stats
    report.review_pairs = ReviewPair.objects.filter(status=ReviewPair.Status.OPEN).count()
    return report


def import_progress_callback(label: str) -> Progress:
    from tqdm import tqdm

    bar = tqdm(total=0, desc=label, unit="rows")

    def tick(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return tick


def link_run_get(*, public_id: str) -> LinkRun:
    run = LinkRun.objects.filter(public_id=public_id).first()
    if run is None:
        raise NotFound()
    return run


# A run still "running" after this long died with its process (a link run reports no
# heartbeat): it is marked failed and no longer blocks a new one.
LINK_RUN_STALE = dt.timedelta(hours=12)
LINK_RUN_WAIT_S = 10.0
LINK_INTERRUPTED = (
    "Penautan terputus: proses berhenti sebelum selesai; mulai penautan baru / interrupted: the "
    "process stopped before finishing; start a new link run"
)


def link_runs_reap_stale(*, now: dt.datetime | None = None) -> int:
    """Mark link runs whose worker died (killed, machine restarted) as failed, so that the list
    stops showing them as running. Golden records and flags are applied in one transaction at
    the end, so such a run applied nothing."""
    now = now or timezone.now()
    stale = list(
        LinkRun.objects.filter(
            status=LinkRun.Status.RUNNING, started_at__lt=now - LINK_RUN_STALE
        ).values_list("pk", "public_id")
    )
    if stale:
        LinkRun.objects.filter(pk__in=[pk for pk, _id in stale]).update(
            status=LinkRun.Status.FAILED, error=LINK_INTERRUPTED, finished_at=now
        )
        for _pk, public_id in stale:
            audit_record(
                actor=None,
                action="integration.link_interrupted",
                target_type="link_run",
                target_id=public_id,
                detail={},
            )
    return len(stale)


def link_run_start(*, acting_user: User, incremental: bool = False) -> LinkRun:
    """Start a link run (a full one, or an incremental one over records not linked yet) on the
    worker (tasks.link_run_task; in the request with the immediate backend) and return it as
    soon as it exists; one run at a time."""
    _require_admin(acting_user)
    link_runs_reap_stale()
    busy = LinkRun.objects.filter(status=LinkRun.Status.RUNNING).first()
    if busy is not None:
        raise LinkRunBusy(
            _("Penautan %(run)s masih berjalan / a link run is still running")
            % {"run": busy.public_id},
            code="link_run_running",
        )
    last = LinkRun.objects.order_by("-id").values_list("id", flat=True).first() or 0
    user_id = _user_id(acting_user)
    mine: dict[str, Any] = {"created_by_id": user_id} if user_id is not None else {}
    result = tasks.link_run_task.enqueue(user_id=user_id, incremental=incremental)
    # link_run_execute creates the run first thing; wait for that row, not for the run.
    deadline = time.monotonic() + LINK_RUN_WAIT_S
    extended = False
    while True:
        if not result.is_finished:  # the immediate backend has finished it already
            result.refresh()
        done = result.is_finished  # read before the query: a run that ends in between is found
        run = LinkRun.objects.filter(id__gt=last, **mine).order_by("id").first()
        if run is not None:
            return run
        if not done and not extended and time.monotonic() > deadline:
            # No worker took it in time (none running, or busy with a long import): withdraw
            # it, so that it does not start later behind the admin's back.
            withdrawn = DBTaskResult.objects.filter(
                id=result.id, status=TaskResultStatus.READY
            ).delete()[0]
            if not withdrawn:  # a worker took it just now: one more wait for the run's row
                extended = True
                deadline = time.monotonic() + LINK_RUN_WAIT_S
                continue
        if done or time.monotonic() > deadline:
            raise TepatError(
                _(
                    "Penautan tidak dapat dimulai: tidak ada proses latar (tepat db_worker) yang "
                    "mengambilnya dalam 10 detik; jalankan atau tunggu impor yang sedang diproses "
                    "/ the link run could not start: no background worker (tepat db_worker) took "
                    "it within 10 seconds; start one, or wait for the import it is processing"
                ),
                code="link_run_failed",
            )
        time.sleep(0.1)


def integration_forget_person(*, person_id: int, nik_index: str, **_: Any) -> int:
    """Erasure (UU 27/2022 Art. 8, through registry.rights): the agency records linked to the
    person or carrying their NIK (staged rows hold names, birth dates and addresses), their
    golden records and flags are deleted. Quarantined rows are encrypted whole and go with
    their retention period (they are not searchable by person)."""
    from django.db.models import Q

    from tepat.integration.models import Flag, GoldenRecord, StagedRecord

    by_person = Q(person_id=person_id) | Q(nik_index=nik_index)
    staged, _n = StagedRecord.objects.filter(by_person).delete()
    golden, _n = GoldenRecord.objects.filter(by_person).delete()
    flags, _n = Flag.objects.filter(person_id=person_id).delete()
    return staged + golden + flags
