"""Background work of the integration app: processing an uploaded delivery and a link run.

Both are tasks of Django's tasks framework (the django-tasks backport): the services enqueue
them and `tepat db_worker` runs them in its own process (docs/operations.md, "Background
work"); with TEPAT_INTEGRATION_INLINE_JOBS the immediate backend runs them inside the request
(tests, tiny offices). Progress is recorded on the ImportRun and LinkRun rows, which the pages
and the API poll, so nothing here reports through the task result.

Task arguments are stored in the queue table in clear, so they carry ids only: the file itself
waits in ImportUpload, encrypted (see `upload_seal`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django_tasks import task

from tepat.core import crypto
from tepat.integration.golden import link_run_execute
from tepat.integration.importing import import_run_process
from tepat.integration.models import ImportRun, ImportUpload


def _upload_context(run: ImportRun) -> str:
    # Bound as associated data: a ciphertext copied onto another run does not decrypt.
    return f"integration.upload:{run.public_id}"


def upload_seal(*, run: ImportRun, data: bytes) -> ImportUpload:
    """Keep an uploaded file for the worker, encrypted with the field key (AES-GCM). Latin-1 maps
    each byte to one character and back, so any file (CSV, Excel) survives the text cipher."""
    token = crypto.encrypt(data.decode("latin-1"), context=_upload_context(run))
    return ImportUpload.objects.create(run=run, content_enc=token)


def _upload_take(run: ImportRun) -> bytes | None:
    """The file of a pending run, deleted from the database in the same step: a crash after
    this leaves nothing behind (the run is reaped as interrupted and can be uploaded again)."""
    with transaction.atomic():
        upload = ImportUpload.objects.select_for_update().filter(run=run).first()
        if upload is None:
            return None
        upload.delete()
    return crypto.decrypt(upload.content_enc, context=_upload_context(run)).encode("latin-1")


def _user(user_id: int | None) -> Any:
    if user_id is None:
        return None  # a system job from the command line
    return get_user_model().objects.filter(pk=user_id).first()


@task()
def import_run_task(*, run_public_id: str, user_id: int | None) -> None:
    """Validate and apply an uploaded delivery. A run that is no longer pending (reaped as
    interrupted while it waited, or already taken) is left alone."""
    run = ImportRun.objects.select_related("source").filter(public_id=run_public_id).first()
    if run is None:
        return
    data = _upload_take(run)
    if data is None or run.status != ImportRun.Status.PENDING:
        return
    # A failure is recorded on the run (status, error) for the page to show, then re-raised so
    # that the queue records it too.
    import_run_process(acting_user=_user(user_id), run=run, data=data)


@task()
def link_run_task(*, user_id: int | None, incremental: bool) -> str:
    """Link the staged records with the registry; the LinkRun row records progress and failure."""
    return link_run_execute(acting_user=_user(user_id), incremental=incremental).public_id
