"""Background work of integration (tepat.integration.tasks) on the database queue that
`tepat db_worker` runs: what waits in the queue, what the worker does, what a dead worker leaves."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from tepat.accounts.models import Role, User
from tepat.core.errors import TepatError
from tepat.core.models import AuditEvent
from tepat.integration import services
from tepat.integration.importing import INTERRUPTED, import_runs_reap_stale
from tepat.integration.models import ImportRun, ImportUpload, LinkRun

from .test_importing import BAD_DATE, GOOD, _csv

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def queue(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.TASKS = DATABASE_QUEUE
    # The worker closes connections it thinks stale; inside a test's transaction that would end
    # the test's connection.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)


def _work() -> None:
    """What `tepat db_worker` does, once over the queue."""
    db_worker.Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    ).run()


def _upload(data: bytes) -> ImportRun:
    return services.upload_start(
        acting_user=None, source_key="bpjs", file_name="bpjs.csv", data=data
    ).run


def test_an_upload_waits_for_the_worker_encrypted_and_never_in_the_task_arguments(
    sources: None, queue: None
) -> None:
    run = _upload(_csv(GOOD, BAD_DATE))
    assert run.status == "pending"
    upload = ImportUpload.objects.get(run=run)
    assert "3273011205800001" not in upload.content_enc
    assert "ASEP" not in upload.content_enc
    task = DBTaskResult.objects.get()
    assert task.args_kwargs == {
        "args": [],
        "kwargs": {"run_public_id": run.public_id, "user_id": None},
    }


def test_the_worker_imports_the_upload_and_deletes_the_file(sources: None, queue: None) -> None:
    run = _upload(_csv(GOOD, BAD_DATE))
    _work()
    run.refresh_from_db()
    assert run.status == "done"
    assert (run.accepted_rows, run.rejected_rows) == (1, 1)
    assert not ImportUpload.objects.exists()
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_a_failed_import_fails_its_run_and_its_task_and_leaves_no_file(
    sources: None, queue: None
) -> None:
    run = _upload(b"")
    _work()
    run.refresh_from_db()
    assert run.status == "failed"
    assert "empty file" in run.error
    assert not ImportUpload.objects.exists()
    assert DBTaskResult.objects.get().status == "FAILED"


def test_an_upload_no_worker_took_is_reaped_with_its_file_and_the_late_task_leaves_it_alone(
    sources: None, queue: None
) -> None:
    run = _upload(_csv(GOOD))
    later = timezone.now() + dt.timedelta(days=1)
    assert import_runs_reap_stale(now=later) == 1
    assert not ImportUpload.objects.exists()
    _work()
    run.refresh_from_db()
    assert (run.status, run.error, run.accepted_rows) == ("failed", INTERRUPTED, 0)


def test_a_link_run_no_worker_takes_is_withdrawn_and_said_not_to_start(
    sources: None, queue: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = User.objects.create_user(
        username="admin", password="kata-sandi-panjang-1", role=Role.ADMIN
    )
    monkeypatch.setattr(services, "LINK_RUN_WAIT_S", 0.2)
    with pytest.raises(TepatError) as exc:
        services.link_run_start(acting_user=admin)
    assert exc.value.code == "link_run_failed"
    assert not DBTaskResult.objects.exists()  # it will not start later behind the admin's back
    assert not LinkRun.objects.exists()


def test_a_link_run_whose_worker_died_is_marked_failed_and_no_longer_blocks(
    sources: None,
) -> None:
    dead = LinkRun.objects.create()
    LinkRun.objects.filter(pk=dead.pk).update(
        started_at=timezone.now() - services.LINK_RUN_STALE - dt.timedelta(minutes=1)
    )
    alive = LinkRun.objects.create()
    assert services.link_runs_reap_stale() == 1
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert (dead.status, dead.error) == ("failed", services.LINK_INTERRUPTED)
    assert dead.finished_at is not None
    assert alive.status == "running"
    assert AuditEvent.objects.filter(
        action="integration.link_interrupted", target_id=dead.public_id
    ).exists()
