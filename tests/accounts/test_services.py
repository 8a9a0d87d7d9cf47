"""Account services: creation, scopes, unlock, TOTP enrolment and verification."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import override_settings
from django.utils import timezone

from tepat.accounts import selectors, services
from tepat.accounts.models import RegionScope, Role, User
from tepat.core.errors import PermissionDenied, TepatError
from tepat.core.models import AuditEvent
from tests.conftest import OPERATOR_SECRET, PASSWORD

from .conftest import code_at


def test_it_creates_a_scoped_operator_with_an_audit_event(admin_user, regions):
    user = services.user_create(
        acting_user=admin_user,
        username="op.coblong",
        password=PASSWORD,
        role="operator",
        region_codes=["32.73", "327301"],
        email="op@example.org",
    )
    assert user.role == Role.OPERATOR
    assert user.check_password(PASSWORD)
    assert user.password.startswith("argon2")
    assert user.region_codes == ["3273", "327301"]
    assert not user.is_staff
    event = AuditEvent.objects.get(action="user.created", target_id=str(user.pk))
    assert event.actor == admin_user
    assert event.detail["region_codes"] == ["3273", "327301"]


def test_it_makes_admins_django_staff_and_superusers(admin_user):
    assert admin_user.is_staff
    assert admin_user.is_superuser


def test_it_rejects_unknown_role(db):
    with pytest.raises(TepatError, match="Peran boss tidak dikenal") as exc:
        services.user_create(acting_user=None, username="x", password=PASSWORD, role="boss")
    assert exc.value.field == "role"


def test_it_rejects_a_malformed_region_code(regions):
    with pytest.raises(TepatError, match="tidak valid") as exc:
        services.user_create(
            acting_user=None, username="x", password=PASSWORD, role="operator", region_codes=["327"]
        )
    assert exc.value.code == "invalid_region"


def test_it_rejects_unknown_region(regions):
    with pytest.raises(TepatError, match="Kode wilayah 9999 tidak dikenal") as exc:
        services.user_create(
            acting_user=None,
            username="x",
            password=PASSWORD,
            role="operator",
            region_codes=["9999"],
        )
    assert exc.value.code == "unknown_region"
    assert not User.objects.filter(username="x").exists()


def test_it_requires_a_region_for_scoped_roles(db):
    with pytest.raises(TepatError, match="paling sedikit satu kode wilayah"):
        services.user_create(acting_user=None, username="x", password=PASSWORD, role="field_agent")


def test_it_lets_auditors_have_no_region(db):
    user = services.user_create(acting_user=None, username="aud", password=PASSWORD, role="auditor")
    assert user.region_codes == []


def test_it_rejects_a_weak_password_with_the_validators_message(db):
    with pytest.raises(TepatError) as exc:
        services.user_create(acting_user=None, username="x", password="short", role="auditor")
    assert exc.value.code == "weak_password"
    assert not User.objects.filter(username="x").exists()


def test_it_rejects_a_duplicate_username_whatever_the_case(admin_user):
    with pytest.raises(TepatError, match="sudah dipakai"):
        services.user_create(
            acting_user=None, username=admin_user.username.upper(), password=PASSWORD,
            role="auditor",
        )  # fmt: skip


def test_only_admins_manage_accounts(operator):
    with pytest.raises(PermissionDenied):
        services.user_create(acting_user=operator, username="x", password=PASSWORD, role="auditor")
    with pytest.raises(PermissionDenied):
        services.user_unlock(acting_user=operator, user=operator)


def test_a_preset_totp_secret_is_stored_encrypted_and_confirmed(operator):
    assert OPERATOR_SECRET not in operator.totp_secret_enc
    assert services.totp_secret(operator) == OPERATOR_SECRET
    assert operator.totp_confirmed_at is not None
    services.totp_verify(user=operator, code=code_at(OPERATOR_SECRET))


def test_a_preset_totp_secret_must_be_base32(db):
    with pytest.raises(TepatError, match="base32"):
        services.user_create(
            acting_user=None, username="x", password=PASSWORD, role="auditor", totp_secret="not!b32"
        )


def test_the_secret_is_bound_to_its_user(operator, admin_user):
    admin_user.totp_secret_enc = operator.totp_secret_enc
    with pytest.raises(Exception):  # noqa: B017, PT011 (any decryption failure will do)
        services.totp_secret(admin_user)


def test_scope_set_replaces_the_regions_and_records_before_and_after(admin_user, operator):
    codes = services.user_scope_set(
        acting_user=admin_user, user=operator, region_codes=["327301", "36"]
    )
    assert codes == ["327301", "36"]
    assert sorted(
        RegionScope.objects.filter(user=operator).values_list("region_code", flat=True)
    ) == [
        "327301",
        "36",
    ]
    event = AuditEvent.objects.get(action="user.scope_set")
    assert event.detail == {"before": ["3273"], "after": ["327301", "36"]}


def test_scope_set_cannot_leave_an_operator_without_regions(admin_user, operator):
    with pytest.raises(TepatError, match="paling sedikit satu"):
        services.user_scope_set(acting_user=admin_user, user=operator, region_codes=[])
    assert operator.region_codes == ["3273"]


def test_unlock_clears_the_lock_and_the_count(admin_user, operator):
    User.objects.filter(pk=operator.pk).update(
        failed_logins=5, locked_until=timezone.now() + timedelta(minutes=10)
    )
    operator.refresh_from_db()
    assert services.is_locked(operator)
    services.user_unlock(acting_user=admin_user, user=operator)
    operator.refresh_from_db()
    assert operator.failed_logins == 0
    assert not services.is_locked(operator)
    assert (
        AuditEvent.objects.filter(action="user.unlocked").get().detail["before"]["failed_logins"]
        == 5
    )


def test_enrolment_gives_a_secret_then_the_first_code_confirms_it(new_supervisor):
    session = SessionStore()
    secret = services.totp_begin_enrolment(user=new_supervisor, session=session)
    assert services.totp_begin_enrolment(user=new_supervisor, session=session) == secret
    new_supervisor.refresh_from_db()
    assert new_supervisor.totp_confirmed_at is None
    assert new_supervisor.totp_secret_enc == ""  # pending: in the session only
    services.totp_confirm(user=new_supervisor, code=pyotp.TOTP(secret).now(), session=session)
    new_supervisor.refresh_from_db()
    assert new_supervisor.totp_confirmed_at is not None
    assert new_supervisor.totp_last_step > 0
    assert services.totp_secret(new_supervisor) == secret
    assert services.SESSION_PENDING_TOTP not in session
    with pytest.raises(TepatError, match="sudah aktif"):
        services.totp_begin_enrolment(user=new_supervisor, session=SessionStore())


def test_enrolment_refuses_a_wrong_code(new_supervisor):
    session = SessionStore()
    secret = services.totp_begin_enrolment(user=new_supervisor, session=session)
    wrong = "123456" if pyotp.TOTP(secret).now() != "123456" else "654321"
    with pytest.raises(services.LoginRefused):
        services.totp_confirm(user=new_supervisor, code=wrong, session=session)
    new_supervisor.refresh_from_db()
    assert new_supervisor.totp_confirmed_at is None


def test_verify_accepts_spaces_in_the_code(operator):
    code = code_at(OPERATOR_SECRET)
    services.totp_verify(user=operator, code=f"{code[:3]} {code[3:]}")


def test_verify_refuses_a_code_two_steps_old(operator):
    with pytest.raises(services.LoginRefused):
        services.totp_verify(user=operator, code=code_at(OPERATOR_SECRET, -3))


def test_verify_refuses_an_older_step_after_a_newer_one(operator):
    services.totp_verify(user=operator, code=code_at(OPERATOR_SECRET, 1))
    with pytest.raises(services.LoginRefused) as exc:
        services.totp_verify(user=operator, code=code_at(OPERATOR_SECRET))
    assert exc.value.code == "replay"


def test_verify_before_enrolment_is_refused(new_supervisor):
    with pytest.raises(TepatError, match="belum disiapkan"):
        services.totp_verify(user=new_supervisor, code="123456")


@override_settings(TEPAT_LOGIN_MAX_FAILURES=2)
def test_a_lock_that_ran_out_starts_a_fresh_count(operator):
    User.objects.filter(pk=operator.pk).update(
        failed_logins=2, locked_until=timezone.now() - timedelta(minutes=1)
    )
    operator.refresh_from_db()
    with pytest.raises(services.LoginRefused):
        services.totp_verify(
            user=operator, code="000000" if code_at(OPERATOR_SECRET) != "000000" else "111111"
        )
    operator.refresh_from_db()
    assert operator.failed_logins == 1
    assert operator.locked_until is None


def test_totp_reset_forgets_the_secret(admin_user, operator):
    services.totp_reset(acting_user=admin_user, user=operator)
    operator.refresh_from_db()
    assert operator.totp_secret_enc == ""
    assert operator.totp_confirmed_at is None


def test_the_provisioning_uri_names_tepat_as_issuer(operator):
    uri = selectors.totp_provisioning_uri(user=operator, secret=OPERATOR_SECRET)
    assert uri.startswith("otpauth://totp/Tepat:operator.bandung?")
    assert "issuer=Tepat" in uri
    svg = selectors.totp_qr_svg(uri=uri, title="QR")
    assert svg.startswith("<svg")
    assert "<title>QR</title>" in svg
