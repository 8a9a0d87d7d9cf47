"""`tepat staff`: create, scope, unlock, reset-totp, list."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tepat.accounts.models import User
from tepat.core.models import AuditEvent
from tests.conftest import PASSWORD


def run(*args: str) -> str:
    out = StringIO()
    call_command("staff", *args, stdout=out)
    return out.getvalue()


def test_create_reads_the_password_from_a_file(regions, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")
    out = run(
        "create",
        "--username",
        "op1",
        "--role",
        "operator",
        "--region",
        "3273",
        "--region",
        "32.73.01",
        "--password-file",
        str(secret),
    )
    assert "created op1 (operator)" in out
    user = User.objects.get(username="op1")
    assert user.check_password(PASSWORD)
    assert user.region_codes == ["3273", "327301"]
    assert AuditEvent.objects.get(action="user.created").detail["via"] == "cli"


def test_create_prompts_for_the_password_twice(db, monkeypatch):
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    run("create", "--username", "aud", "--role", "auditor")
    assert User.objects.get(username="aud").check_password(PASSWORD)


def test_create_refuses_mismatched_passwords(db, monkeypatch):
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(CommandError, match="do not match"):
        run("create", "--username", "aud", "--role", "auditor")


def test_create_reports_an_unknown_region_clearly(regions, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD)
    with pytest.raises(CommandError, match="Kode wilayah 9999 tidak dikenal"):
        run(
            "create",
            "--username",
            "op1",
            "--role",
            "operator",
            "--region",
            "9999",
            "--password-file",
            str(secret),
        )


def test_scope_replaces_the_regions(operator):
    out = run("scope", "--username", "operator.bandung", "--region", "36")
    assert "regions 36" in out
    assert operator.region_codes == ["36"]


def test_unlock_clears_a_lock_out(operator):
    User.objects.filter(pk=operator.pk).update(
        failed_logins=5, locked_until=timezone.now() + timedelta(minutes=5)
    )
    assert "unlocked" in run("unlock", "--username", "operator.bandung")
    operator.refresh_from_db()
    assert operator.locked_until is None


def test_reset_totp_forgets_the_secret(operator):
    run("reset-totp", "--username", "operator.bandung")
    operator.refresh_from_db()
    assert operator.totp_confirmed_at is None


def test_list_shows_roles_totp_and_regions(operator, new_supervisor):
    out = run("list")
    lines = out.splitlines()
    assert lines[0].split() == ["username", "role", "totp", "locked", "regions"]
    assert lines[1].split() == ["operator.bandung", "operator", "yes", "no", "3273"]
    assert lines[2].split() == ["supervisor.jabar", "supervisor", "no", "no", "32"]


def test_an_unknown_username_is_a_clear_error(db):
    with pytest.raises(CommandError, match="no staff user named 'ghost'"):
        run("unlock", "--username", "ghost")


def test_create_makes_the_new_staff_member_change_the_password(regions, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")
    out = run("create", "--username", "op2", "--role", "auditor", "--password-file", str(secret))
    assert "then a new password" in out
    assert User.objects.get(username="op2").must_change_password


def test_create_own_account_keeps_the_password(regions, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")
    run(
        "create",
        "--username",
        "kepala",
        "--role",
        "admin",
        "--password-file",
        str(secret),
        "--own-account",
    )
    assert not User.objects.get(username="kepala").must_change_password


def test_reset_password_sets_it_and_forces_a_change(operator, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("lumbung-padi-cerah-7391\n")
    out = run("reset-password", "--username", "operator.bandung", "--password-file", str(secret))
    assert "choose their own" in out
    operator.refresh_from_db()
    assert operator.check_password("lumbung-padi-cerah-7391")
    assert operator.must_change_password
    event = AuditEvent.objects.filter(action="user.password_reset").get()
    assert event.detail == {"via": "cli"}


def test_reset_password_refuses_a_guessable_password(operator, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("indonesia1945\n")
    with pytest.raises(CommandError, match="mudah ditebak"):
        run("reset-password", "--username", "operator.bandung", "--password-file", str(secret))
