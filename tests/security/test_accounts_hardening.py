"""Staff enrolment, passwords and sessions (issue 16, item 12).

Attacks tried:
- someone who knows an unenrolled account's password opens the TOTP enrolment page and keeps the
  secret shown, waiting for the real owner to enrol the same secret (it was stored on the account
  and shown to every password-only session);
- an admin (or whoever read the creation message) keeps using the password they chose for a new
  staff member, or that they reset;
- a left-open session is used to change the password without the old one, or to guess the old one
  without limit; a stolen session survives the owner's password change;
- a password that passes Django's rules but is a leaked or guessable one (`indonesia1945`);
- a session left open on a shared office computer is used hours later.
"""

from __future__ import annotations

import time

import pyotp
import pytest
from django.contrib.auth.password_validation import (
    CommonPasswordValidator,
    MinimumLengthValidator,
    UserAttributeSimilarityValidator,
)
from django.test import Client, override_settings

from tepat.accounts import services
from tepat.accounts.middleware import SESSION_LAST_SEEN, SESSION_STARTED
from tepat.accounts.models import User
from tepat.accounts.views import SESSION_VERIFIED
from tepat.core.errors import TepatError
from tepat.core.models import AuditEvent
from tests.accounts.conftest import *  # noqa: F403
from tests.accounts.conftest import code_at
from tests.conftest import OPERATOR_SECRET, PASSWORD, signed_in

LOGIN = "/accounts/masuk/"
TOTP = "/accounts/masuk/kode/"
ENROL = "/accounts/masuk/daftar-kode/"
CHANGE = "/accounts/kata-sandi/"
REGISTRY = "/registry/"
NEW_PASSWORD = "lumbung-padi-cerah-7391"


def _password_step(client: Client, username: str, password: str = PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password})


def _secret_on_page(client: Client) -> str:
    html = client.get(ENROL).content.decode()
    start = html.index('id="tepat-totp-secret">') + len('id="tepat-totp-secret">')
    return html[start : html.index("<", start)].replace(" ", "")


# --- enrolment ---------------------------------------------------------------------------


def test_two_sessions_that_know_an_unenrolled_password_are_shown_different_secrets(new_supervisor):
    owner, intruder = Client(), Client()
    _password_step(owner, "supervisor.jabar")
    _password_step(intruder, "supervisor.jabar")
    assert _secret_on_page(owner) != _secret_on_page(intruder)
    new_supervisor.refresh_from_db()
    assert new_supervisor.totp_secret_enc == ""  # nothing on the account until a code confirms it


def test_a_secret_kept_from_the_enrolment_page_is_useless_once_the_owner_enrols(new_supervisor):
    intruder = Client()
    _password_step(intruder, "supervisor.jabar")
    kept = _secret_on_page(intruder)

    owner = Client()
    _password_step(owner, "supervisor.jabar")
    owners_secret = _secret_on_page(owner)
    response = owner.post(ENROL, {"code": pyotp.TOTP(owners_secret).now()})
    assert response["Location"] == REGISTRY
    new_supervisor.refresh_from_db()
    assert services.totp_secret(new_supervisor) == owners_secret
    assert kept != owners_secret

    # The intruder's pending enrolment is over, and codes of the kept secret open nothing.
    assert intruder.post(ENROL, {"code": pyotp.TOTP(kept).now()})["Location"] == TOTP
    later = Client()
    _password_step(later, "supervisor.jabar")
    wrong = pyotp.TOTP(kept).now()
    if wrong == pyotp.TOTP(owners_secret).now():  # one chance in a million
        pytest.skip("the two secrets gave the same code this time step")
    assert later.post(TOTP, {"code": wrong}).status_code == 200
    assert not later.session.get(SESSION_VERIFIED)


def test_a_pending_secret_cannot_be_confirmed_from_another_session(new_supervisor):
    shown = Client()
    _password_step(shown, "supervisor.jabar")
    secret = _secret_on_page(shown)
    other = Client()
    _password_step(other, "supervisor.jabar")
    other.get(ENROL)
    other.post(ENROL, {"code": pyotp.TOTP(secret).now()})
    new_supervisor.refresh_from_db()
    assert new_supervisor.totp_confirmed_at is None


# --- forced password change ---------------------------------------------------------------


@pytest.fixture
def new_operator(admin_user, regions) -> User:
    """An operator an admin created, with a password the admin chose; TOTP already set up."""
    return services.user_create(
        acting_user=admin_user,
        username="operator.baru",
        password=PASSWORD,
        role="operator",
        region_codes=["3273"],
        totp_secret=OPERATOR_SECRET,
    )


def test_an_account_an_admin_created_must_change_its_password_before_any_page(new_operator):
    assert new_operator.must_change_password
    client = Client()
    _password_step(client, "operator.baru")
    response = client.post(TOTP, {"code": code_at(OPERATOR_SECRET)})
    assert response["Location"] == CHANGE
    for path in (REGISTRY, "/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(CHANGE + "?next="), path
    api = client.get("/api/registry/persons")
    assert api.status_code == 401
    assert api.json()["code"] == "password_change_required"
    assert client.get(CHANGE).status_code == 200

    response = client.post(
        CHANGE,
        {
            "old_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    new_operator.refresh_from_db()
    assert not new_operator.must_change_password
    assert new_operator.check_password(NEW_PASSWORD)
    assert client.get(REGISTRY).status_code == 200
    event = AuditEvent.objects.filter(action="user.password_changed").get()
    assert event.actor_id == new_operator.pk
    assert event.detail["forced"] is True


def test_an_admin_password_reset_forces_a_change_and_ends_the_users_sessions(admin_user, operator):
    session = signed_in(Client(), operator)
    assert session.get(REGISTRY).status_code == 200
    services.user_password_reset(acting_user=admin_user, user=operator, password=NEW_PASSWORD)
    operator.refresh_from_db()
    assert operator.must_change_password
    assert session.get(REGISTRY)["Location"].startswith(LOGIN)
    assert AuditEvent.objects.filter(action="user.password_reset", actor=admin_user).exists()


def test_only_an_admin_resets_a_password(operator, new_supervisor):
    from tepat.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.user_password_reset(
            acting_user=operator, user=new_supervisor, password=NEW_PASSWORD
        )


def test_a_password_set_in_the_django_admin_must_be_changed(client, admin_user, operator):
    signed_in(client, admin_user)
    response = client.post(
        f"/admin/accounts/user/{operator.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302
    operator.refresh_from_db()
    assert operator.check_password(NEW_PASSWORD)
    assert operator.must_change_password


# --- the password change page --------------------------------------------------------------


def test_the_password_change_needs_the_old_password(operator):
    client = signed_in(Client(), operator)
    response = client.post(
        CHANGE,
        {
            "old_password": "not-the-password-1",
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "Kata sandi lama salah." in response.content.decode()
    operator.refresh_from_db()
    assert operator.check_password(PASSWORD)
    assert AuditEvent.objects.filter(action="user.password_change_failed").exists()


@override_settings(TEPAT_LOGIN_MAX_FAILURES=3)
def test_guessing_the_old_password_from_an_open_session_locks_the_account(operator):
    client = signed_in(Client(), operator)
    for n in range(3):
        client.post(
            CHANGE,
            {
                "old_password": f"tebakan-salah-{n}",
                "new_password": NEW_PASSWORD,
                "new_password_again": NEW_PASSWORD,
            },
        )
    operator.refresh_from_db()
    assert services.is_locked(operator)
    assert "_auth_user_id" not in client.session  # signed out, back to the log-in


def test_changing_the_password_ends_the_users_other_sessions_but_not_this_one(operator):
    stolen = signed_in(Client(), operator)
    own = signed_in(Client(), operator)
    assert stolen.get(REGISTRY).status_code == 200
    response = own.post(
        CHANGE,
        {
            "old_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert own.get(REGISTRY).status_code == 200
    assert stolen.get(REGISTRY)["Location"].startswith(LOGIN)


def test_the_password_change_page_speaks_english_too(operator):
    client = signed_in(Client(), operator)
    client.post("/i18n/setlang/", {"language": "en", "next": CHANGE})
    html = client.get(CHANGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Change password" in html


# --- guessable passwords --------------------------------------------------------------------


@pytest.mark.parametrize(
    "password", ["indonesia1945", "Password2026!", "iloveyou2026", "dinsos12345"]
)
def test_a_guessable_password_that_djangos_own_rules_accept_is_refused(password, regions):
    for validator in (
        UserAttributeSimilarityValidator(),
        MinimumLengthValidator(min_length=10),
        CommonPasswordValidator(),
    ):
        validator.validate(password)  # Django's list and rules let it through
    with pytest.raises(TepatError) as refused:
        services.user_create(acting_user=None, username="x", password=password, role="auditor")
    assert refused.value.code == "weak_password"
    assert "mudah ditebak" in refused.value.message


# --- idle and absolute time-outs -----------------------------------------------------------


def _age_session(client: Client, **offsets: int) -> None:
    session = client.session
    now = int(time.time())
    for key, seconds_ago in offsets.items():
        session[key] = now - seconds_ago
    session.save()


@override_settings(TEPAT_IDLE_TIMEOUT_S=1800)
def test_a_session_idle_longer_than_the_timeout_is_signed_out(operator):
    client = signed_in(Client(), operator)
    assert client.get(REGISTRY).status_code == 200
    _age_session(client, **{SESSION_LAST_SEEN: 1801})
    response = client.get(REGISTRY)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.filter(action="logout.session_expired").get()
    assert event.detail == {"reason": "idle"}
    assert "lama tidak aktif" in client.get(LOGIN).content.decode()


@override_settings(TEPAT_IDLE_TIMEOUT_S=1800)
def test_an_idle_api_session_gets_401(operator):
    client = signed_in(Client(), operator)
    client.get(REGISTRY)
    _age_session(client, **{SESSION_LAST_SEEN: 3600})
    response = client.get("/api/registry/persons")
    assert response.status_code == 401
    assert response.json()["code"] == "session_expired"


@override_settings(TEPAT_IDLE_TIMEOUT_S=1800)
def test_an_active_session_stays_and_writes_its_clock_at_most_once_a_minute(operator):
    client = signed_in(Client(), operator)
    client.get(REGISTRY)
    first = client.session[SESSION_LAST_SEEN]
    client.get(REGISTRY)
    assert client.session[SESSION_LAST_SEEN] == first  # not rewritten within the minute
    _age_session(client, **{SESSION_LAST_SEEN: 1700})
    assert client.get(REGISTRY).status_code == 200  # 28 minutes idle: still in
    assert client.session[SESSION_LAST_SEEN] >= int(time.time()) - 5


@override_settings(SESSION_COOKIE_AGE=8 * 3600)
def test_a_session_older_than_its_maximum_age_ends_even_when_active(operator):
    client = signed_in(Client(), operator)
    client.get(REGISTRY)
    _age_session(client, **{SESSION_STARTED: 8 * 3600 + 1, SESSION_LAST_SEEN: 10})
    assert client.get(REGISTRY)["Location"].startswith(LOGIN)
    assert AuditEvent.objects.filter(
        action="logout.session_expired", detail__reason="max_age"
    ).exists()


def test_an_account_added_in_the_django_admin_must_change_its_password(client, admin_user):
    signed_in(client, admin_user)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "auditor.baru",
            "usable_password": "true",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "role": "auditor",
            "region_scopes-TOTAL_FORMS": "0",
            "region_scopes-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(username="auditor.baru").must_change_password
