"""The Django admin and the audit trail (issue 16, item 10).

Attacks tried:
- a superuser forges an audit event at /admin/core/auditevent/add/, or edits or deletes one;
- a superuser adds or edits an open-data release, alert, alert rule, refresh or log record by hand;
- an open-data release whose `directory` points at var/keys (or a symlink inside the open-data
  folder that points there) serves the field key to anonymous visitors;
- an export is written outside the open-data folder, so that its files are served from there;
- someone with database access through the application rewrites or deletes audit rows;
- an admin changes a user's role, flags or region scopes in the admin, leaving no trace.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib import admin
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.urls import reverse

from tepat.accounts.models import RegionScope, Role, User
from tepat.core.audit import audit_record
from tepat.core.errors import ValidationFailed
from tepat.core.models import AuditEvent
from tepat.ledger.models import Checkpoint, LogEntry, WitnessCosignature
from tepat.monitoring.models import Alert, AlertRule
from tepat.transparency.models import OpenDataRelease, RefreshRun
from tepat.transparency.services import opendata_export

KEY_TEXT = "FIELD-KEY-MUST-NEVER-BE-SERVED"
READ_ONLY_MODELS = [
    AuditEvent,
    OpenDataRelease,
    RefreshRun,
    Alert,
    AlertRule,
    LogEntry,
    Checkpoint,
    WitnessCosignature,
]


@pytest.fixture
def superuser(regions: None) -> User:
    return User.objects.create_superuser(
        username="root_admin", password="kata-sandi-panjang-1", role=Role.ADMIN
    )


@pytest.fixture
def var_dir(db: None, settings: Any, tmp_path: Any) -> Any:
    """A var/ of the test's own with a key file in var/keys and the default open-data folder."""
    var = tmp_path / "var"
    (var / "keys").mkdir(parents=True)
    (var / "keys" / "field.key").write_text(KEY_TEXT)
    settings.VAR_DIR = var
    if hasattr(settings, "TRANSPARENCY_OPENDATA_DIR"):
        del settings.TRANSPARENCY_OPENDATA_DIR
    return var


def _files_release(directory: str, path: str) -> OpenDataRelease:
    files = [{"path": path, "bytes": 1, "sha256": "0" * 64}]
    return OpenDataRelease.objects.create(
        release_date="2026-12-01",
        directory=directory,
        threshold=10,
        packages=[{"name": "x", "title": "x", "files": files}],
    )


# --- the admin is read-only for records that services write ----------------------------------


@pytest.mark.parametrize("model", READ_ONLY_MODELS, ids=lambda m: m.__name__)
def test_no_one_not_even_a_superuser_may_add_change_or_delete_service_records_in_the_admin(
    model: Any, superuser: User
) -> None:
    request = RequestFactory().get("/admin/")
    request.user = superuser
    model_admin = admin.site._registry[model]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_a_superuser_cannot_forge_an_audit_event_through_the_admin(
    superuser: User, staff_client: Any
) -> None:
    c = staff_client(superuser)
    before = AuditEvent.objects.count()
    response = c.post(
        "/admin/core/auditevent/add/",
        {"actor_label": "bupati", "action": "payment.approved", "detail": "{}"},
    )
    assert response.status_code == 403
    assert AuditEvent.objects.count() == before
    assert not AuditEvent.objects.filter(actor_label="bupati").exists()


def test_a_superuser_cannot_add_an_open_data_release_through_the_admin(
    superuser: User, staff_client: Any, var_dir: Any
) -> None:
    c = staff_client(superuser)
    response = c.post(
        "/admin/transparency/opendatarelease/add/",
        {
            "release_date": "2026-12-01",
            "directory": str(var_dir / "keys"),
            "threshold": "10",
            "packages": json.dumps([{"name": "k", "files": [{"path": "field.key"}]}]),
        },
    )
    assert response.status_code == 403
    assert not OpenDataRelease.objects.exists()


# --- release files come only from the open-data folder ---------------------------------------


def test_a_release_pointing_at_the_key_folder_serves_nothing(client: Any, var_dir: Any) -> None:
    release = _files_release(str(var_dir / "keys"), "field.key")
    url = reverse("transparency:release_file", args=[release.public_id, "field.key"])
    response = client.get(url)
    assert response.status_code == 404
    assert KEY_TEXT.encode() not in b"".join(getattr(response, "streaming_content", [b""]))


def test_a_release_path_climbing_out_of_the_open_data_folder_serves_nothing(
    client: Any, var_dir: Any
) -> None:
    (var_dir / "opendata" / "2026-12-01").mkdir(parents=True)
    release = _files_release(str(var_dir / "opendata" / "2026-12-01"), "../../keys/field.key")
    url = reverse("transparency:release_file", args=[release.public_id, "../../keys/field.key"])
    assert client.get(url).status_code == 404


def test_a_symlink_inside_the_open_data_folder_to_the_keys_is_not_followed(
    client: Any, var_dir: Any
) -> None:
    folder = var_dir / "opendata" / "2026-12-01"
    folder.mkdir(parents=True)
    (folder / "data.csv").symlink_to(var_dir / "keys" / "field.key")
    release = _files_release(str(folder), "data.csv")
    url = reverse("transparency:release_file", args=[release.public_id, "data.csv"])
    assert client.get(url).status_code == 404


def test_a_file_of_a_release_inside_the_open_data_folder_is_still_served(
    client: Any, var_dir: Any
) -> None:
    folder = var_dir / "opendata" / "2026-12-01"
    folder.mkdir(parents=True)
    (folder / "data.csv").write_text("a,b\n1,2\n")
    release = _files_release(str(folder), "data.csv")
    url = reverse("transparency:release_file", args=[release.public_id, "data.csv"])
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"a,b\n1,2\n"


def test_an_export_outside_the_open_data_folder_is_refused(var_dir: Any, regions: None) -> None:
    with pytest.raises(ValidationFailed) as exc:
        opendata_export(out=var_dir / "keys")
    assert exc.value.problems[0].code == "outside_root"
    assert not OpenDataRelease.objects.exists()
    assert sorted(p.name for p in (var_dir / "keys").iterdir()) == ["field.key"]


# --- audit rows are append-only in the database ----------------------------------------------


def test_an_audit_row_cannot_be_rewritten_in_the_database(regions: None) -> None:
    event = audit_record(actor=None, action="payment.approved", detail={"amount": 600000})
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="payment.rejected")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(detail={"amount": 1})
    event.refresh_from_db()
    assert (event.action, event.detail) == ("payment.approved", {"amount": 600000})


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite keeps DELETE open: Django's flush empties SQLite tables with DELETE",
)
def test_an_audit_row_cannot_be_deleted_in_the_database_on_postgresql(regions: None) -> None:
    event = audit_record(actor=None, action="login.failed")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_deleting_a_staff_account_keeps_its_audit_rows_under_its_name(
    bandung_operator: User,
) -> None:
    event = audit_record(actor=bandung_operator, action="person.view", target_id="P1")
    bandung_operator.delete()  # on_delete=SET_NULL: the one update the trigger lets through
    event.refresh_from_db()
    assert (event.actor_id, event.actor_label, event.action) == (None, "op_bandung", "person.view")


# --- role and scope changes in the admin are audited -----------------------------------------


def _change_form(user: User, *, role: str, regions: list[str], **flags: bool) -> dict[str, Any]:
    scopes = list(RegionScope.objects.filter(user=user).order_by("id"))
    data: dict[str, Any] = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "role": role,
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "region_scopes-TOTAL_FORMS": str(len(regions)),
        "region_scopes-INITIAL_FORMS": str(len(scopes)),
        "region_scopes-MIN_NUM_FORMS": "0",
        "region_scopes-MAX_NUM_FORMS": "1000",
    }
    for name, on in flags.items():
        if on:
            data[name] = "on"
    for i, code in enumerate(regions):
        data[f"region_scopes-{i}-region_code"] = code
        data[f"region_scopes-{i}-user"] = str(user.pk)
        if i < len(scopes):
            data[f"region_scopes-{i}-id"] = str(scopes[i].pk)
    return data


def test_a_role_and_scope_change_in_the_admin_is_audited(
    superuser: User, bandung_operator: User, staff_client: Any
) -> None:
    c = staff_client(superuser)
    url = f"/admin/accounts/user/{bandung_operator.pk}/change/"
    response = c.post(
        url,
        _change_form(
            bandung_operator, role=Role.SUPERVISOR, regions=["3273", "3201"], is_active=True
        ),
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    bandung_operator.refresh_from_db()
    assert bandung_operator.role == Role.SUPERVISOR
    event = AuditEvent.objects.get(action="user.access_changed")
    assert event.actor == superuser
    assert event.target_id == str(bandung_operator.pk)
    assert event.detail["before"] == {"role": "operator", "regions": ["3273"]}
    assert event.detail["after"] == {"role": "supervisor", "regions": ["3201", "3273"]}


def test_granting_superuser_in_the_admin_is_audited(
    superuser: User, bandung_operator: User, staff_client: Any
) -> None:
    c = staff_client(superuser)
    url = f"/admin/accounts/user/{bandung_operator.pk}/change/"
    form = _change_form(
        bandung_operator,
        role=Role.OPERATOR,
        regions=["3273"],
        is_active=True,
        is_staff=True,
        is_superuser=True,
    )
    assert c.post(url, form).status_code == 302
    event = AuditEvent.objects.get(action="user.access_changed")
    assert event.detail["after"] == {"is_staff": True, "is_superuser": True}


def test_saving_the_admin_form_unchanged_records_no_access_change(
    superuser: User, bandung_operator: User, staff_client: Any
) -> None:
    c = staff_client(superuser)
    url = f"/admin/accounts/user/{bandung_operator.pk}/change/"
    form = _change_form(bandung_operator, role=Role.OPERATOR, regions=["3273"], is_active=True)
    assert c.post(url, form).status_code == 302
    assert not AuditEvent.objects.filter(action="user.access_changed").exists()


def test_deleting_an_account_in_the_admin_is_audited(
    superuser: User, bogor_operator: User, staff_client: Any
) -> None:
    c = staff_client(superuser)
    response = c.post(f"/admin/accounts/user/{bogor_operator.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="user.deleted")
    assert (event.actor, event.detail["username"], event.detail["regions"]) == (
        superuser,
        "op_bogor",
        ["3201"],
    )


def test_a_password_set_by_an_admin_is_audited(
    superuser: User, bandung_operator: User, staff_client: Any
) -> None:
    c = staff_client(superuser)
    new = "Jq8#vLz2-Tepat-Wq5m"
    response = c.post(
        f"/admin/accounts/user/{bandung_operator.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="user.password_set")
    assert (event.actor, event.target_id) == (superuser, str(bandung_operator.pk))


@pytest.mark.django_db(transaction=True)
def test_the_trigger_leaves_the_test_suites_flush_working() -> None:
    # A transactional test commits its rows; pytest-django then empties every table (TRUNCATE
    # on PostgreSQL, DELETE on SQLite), which the append-only trigger must not block.
    audit_record(actor=None, action="test.committed")
    assert AuditEvent.objects.filter(action="test.committed").exists()
