"""The Django admin for staff accounts: reachable only after the full log-in, with scopes inline."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tepat.accounts.models import User
from tepat.core.models import AuditEvent
from tests.conftest import PASSWORD

from .conftest import pending_secret


def sign_in_as_admin(client, admin_user):
    client.post("/accounts/masuk/", {"username": admin_user.username, "password": PASSWORD})
    # The admin has not enrolled: walk through enrolment with the pending secret.
    import pyotp

    client.get("/accounts/masuk/daftar-kode/")
    secret = pending_secret(client, admin_user)
    client.post("/accounts/masuk/daftar-kode/", {"code": pyotp.TOTP(secret).now()})


def test_the_user_change_page_shows_the_region_scopes_inline(client, admin_user, operator):
    sign_in_as_admin(client, admin_user)
    response = client.get(f"/admin/accounts/user/{operator.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "region_scopes-0-region_code" in html
    assert 'value="3273"' in html


def test_the_unlock_action_goes_through_the_service(client, admin_user, operator):
    User.objects.filter(pk=operator.pk).update(
        failed_logins=5, locked_until=timezone.now() + timedelta(minutes=5)
    )
    sign_in_as_admin(client, admin_user)
    response = client.post(
        "/admin/accounts/user/",
        {"action": "unlock_accounts", "_selected_action": [operator.pk]},
    )
    assert response.status_code == 302
    operator.refresh_from_db()
    assert operator.locked_until is None
    assert AuditEvent.objects.get(action="user.unlocked").actor == admin_user
