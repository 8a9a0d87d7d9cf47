"""The staff log-in journey through the Django test client: password, TOTP, lock-out, audit."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from tepat.accounts.models import User
from tepat.accounts.views import SESSION_VERIFIED
from tepat.core.models import AuditEvent
from tests.conftest import OPERATOR_SECRET, PASSWORD

from .conftest import code_at, pending_secret

LOGIN = "/accounts/masuk/"
TOTP = "/accounts/masuk/kode/"
ENROL = "/accounts/masuk/daftar-kode/"
REGISTRY = "/registry/"


def sign_in_password(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def actions(user: User | None = None) -> list[str]:
    rows = AuditEvent.objects.order_by("id")
    if user is not None:
        rows = rows.filter(actor=user)
    return list(rows.values_list("action", flat=True))


def test_the_url_names_match_the_paths_used_here():
    assert reverse("accounts:login") == LOGIN
    assert reverse("accounts:totp") == TOTP
    assert reverse("accounts:totp_enrol") == ENROL
    assert reverse("registry:search") == REGISTRY


def test_the_login_page_renders_labelled_fields(client, db):
    response = client.get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label class="usa-label" for="id_username">' in html
    assert '<label class="usa-label" for="id_password">' in html
    assert 'autocomplete="current-password"' in html


def test_password_then_totp_signs_the_operator_in(client, operator):
    response = sign_in_password(client, "operator.bandung")
    assert response.status_code == 302
    assert response["Location"] == TOTP
    response = client.post(TOTP, {"code": code_at(OPERATOR_SECRET)})
    assert response.status_code == 302
    assert response["Location"] == REGISTRY
    assert client.session[SESSION_VERIFIED] is True
    assert client.get(REGISTRY).status_code == 200
    assert actions(operator)[-1] == "login.succeeded"
    event = AuditEvent.objects.filter(action="login.succeeded").get()
    assert event.detail == {"second_factor": "totp"}
    assert event.ip_address == "127.0.0.1"


def test_the_next_page_survives_both_steps(client, operator):
    sign_in_password(client, "operator.bandung", next="/tentang/")
    response = client.post(TOTP, {"code": code_at(OPERATOR_SECRET)})
    assert response["Location"] == "/tentang/"


def test_a_next_page_on_another_site_is_ignored(client, operator):
    sign_in_password(client, "operator.bandung", next="https://evil.example/")
    response = client.post(TOTP, {"code": code_at(OPERATOR_SECRET)})
    assert response["Location"] == REGISTRY


def test_a_code_from_one_step_ago_is_accepted(client, operator):
    sign_in_password(client, "operator.bandung")
    response = client.post(TOTP, {"code": code_at(OPERATOR_SECRET, -1)})
    assert response["Location"] == REGISTRY


def test_a_wrong_code_is_refused_and_counted(client, operator):
    sign_in_password(client, "operator.bandung")
    response = client.post(
        TOTP, {"code": "000000" if code_at(OPERATOR_SECRET) != "000000" else "111111"}
    )
    assert response.status_code == 200
    assert "Kode salah atau kedaluwarsa" in response.content.decode()
    assert not client.session.get(SESSION_VERIFIED)
    operator.refresh_from_db()
    assert operator.failed_logins == 1
    assert "login.totp_failed" in actions(operator)


def test_a_code_that_is_not_six_digits_is_refused(client, operator):
    sign_in_password(client, "operator.bandung")
    response = client.post(TOTP, {"code": "12ab56"})
    assert response.status_code == 200
    assert not client.session.get(SESSION_VERIFIED)


def test_a_replayed_code_is_refused(client, operator):
    code = code_at(OPERATOR_SECRET)
    sign_in_password(client, "operator.bandung")
    assert client.post(TOTP, {"code": code})["Location"] == REGISTRY
    other = Client()
    sign_in_password(other, "operator.bandung")
    response = other.post(TOTP, {"code": code})
    assert response.status_code == 200
    assert "sudah dipakai" in response.content.decode()
    assert not other.session.get(SESSION_VERIFIED)
    event = AuditEvent.objects.filter(action="login.totp_failed").get()
    assert event.detail["reason"] == "replay"


def test_a_wrong_password_is_refused_with_a_message_that_names_no_account(client, operator):
    response = sign_in_password(client, "operator.bandung", password="wrong-password-1")
    unknown = sign_in_password(Client(), "nobody.here", password="wrong-password-1")
    assert response.status_code == unknown.status_code == 200
    message = "Log-in gagal. Periksa nama pengguna, kata sandi dan kode."
    assert message in response.content.decode()
    assert message in unknown.content.decode()
    assert "_auth_user_id" not in client.session
    failed = AuditEvent.objects.filter(action="login.failed").order_by("id")
    assert [e.actor_id for e in failed] == [operator.pk, None]
    assert failed[1].detail["username"] == "nobody.here"


@override_settings(TEPAT_LOGIN_MAX_FAILURES=3, TEPAT_LOGIN_LOCKOUT_MINUTES=15)
def test_the_account_locks_after_repeated_failures_and_unlocks_after_the_lockout(client, operator):
    for _ in range(3):
        sign_in_password(client, "operator.bandung", password="wrong-password-1")
    operator.refresh_from_db()
    assert operator.locked_until is not None
    assert "login.locked" in actions(operator)

    # While locked, even the right password is refused, with the same message as a wrong one.
    response = sign_in_password(client, "operator.bandung")
    assert response.status_code == 200
    assert "Log-in gagal" in response.content.decode()
    assert "_auth_user_id" not in client.session

    # When the lock has run out the right password and code work, and the count resets.
    User.objects.filter(pk=operator.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert sign_in_password(client, "operator.bandung")["Location"] == TOTP
    assert client.post(TOTP, {"code": code_at(OPERATOR_SECRET)})["Location"] == REGISTRY
    operator.refresh_from_db()
    assert operator.failed_logins == 0
    assert operator.locked_until is None


@override_settings(TEPAT_LOGIN_MAX_FAILURES=2)
def test_wrong_codes_count_towards_the_lockout_and_end_the_session(client, operator):
    sign_in_password(client, "operator.bandung")
    wrong = "000000" if code_at(OPERATOR_SECRET) != "000000" else "111111"
    client.post(TOTP, {"code": wrong})
    response = client.post(TOTP, {"code": wrong})
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session
    operator.refresh_from_db()
    assert operator.locked_until is not None


@override_settings(TEPAT_LOGIN_MAX_FAILURES=3)
def test_a_correct_password_does_not_reset_the_count_before_the_code(client, operator):
    sign_in_password(client, "operator.bandung", password="wrong-password-1")
    sign_in_password(client, "operator.bandung", password="wrong-password-1")
    sign_in_password(client, "operator.bandung")
    operator.refresh_from_db()
    assert operator.failed_logins == 2


@override_settings(TEPAT_LOGIN_IP_MAX_FAILURES=4, TEPAT_LOGIN_MAX_FAILURES=100)
def test_one_address_is_throttled_after_many_failures_across_usernames(client, operator):
    for i in range(4):
        sign_in_password(client, f"guess{i}", password="wrong-password-1")
    response = sign_in_password(client, "operator.bandung")
    assert "Terlalu banyak percobaan gagal dari alamat ini" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_new_supervisor_enrols_totp_at_first_log_in(client, new_supervisor):
    import pyotp

    response = sign_in_password(client, "supervisor.jabar")
    assert response["Location"] == ENROL
    page = client.get(ENROL)
    html = page.content.decode()
    assert "<svg" in html
    assert 'class="tepat-qr"' in html
    secret = pending_secret(client, new_supervisor)
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in html
    # Reloading the page in the same session shows the same pending secret.
    assert client.get(ENROL).content.decode().count(secret[:4]) >= 1
    assert pending_secret(client, new_supervisor) == secret
    response = client.post(ENROL, {"code": pyotp.TOTP(secret).now()})
    assert response["Location"] == REGISTRY
    new_supervisor.refresh_from_db()
    assert new_supervisor.totp_confirmed_at is not None
    assert "login.totp_enrolled" in actions(new_supervisor)
    assert actions(new_supervisor)[-1] == "login.succeeded"


def test_the_enrolment_secret_is_stored_encrypted(client, new_supervisor):
    sign_in_password(client, "supervisor.jabar")
    client.get(ENROL)
    secret = pending_secret(client, new_supervisor)
    assert len(secret) == 32
    assert secret not in str(dict(client.session))
    import pyotp

    client.post(ENROL, {"code": pyotp.TOTP(secret).now()})
    new_supervisor.refresh_from_db()
    assert secret not in new_supervisor.totp_secret_enc


def test_pages_redirect_to_the_code_step_until_totp_is_passed(client, operator):
    sign_in_password(client, "operator.bandung")
    response = client.get(REGISTRY)
    assert response.status_code == 302
    assert response["Location"].startswith(TOTP + "?next=")
    for path in ("/", "/tentang/", "/admin/"):
        assert client.get(path).status_code == 302, path


def test_the_enrolment_step_is_where_an_unenrolled_user_is_sent(client, new_supervisor):
    sign_in_password(client, "supervisor.jabar")
    assert client.get("/").headers["Location"].startswith(ENROL)


def test_the_api_answers_401_json_before_totp(client, operator):
    sign_in_password(client, "operator.bandung")
    response = client.get("/api/docs")
    assert response.status_code == 401
    assert response.json()["code"] == "two_factor_required"


def test_an_htmx_request_before_totp_gets_a_client_side_redirect(client, operator):
    sign_in_password(client, "operator.bandung")
    response = client.get(REGISTRY, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(TOTP + "?next=")


def test_static_files_and_the_language_switch_stay_open_before_totp(client, operator):
    sign_in_password(client, "operator.bandung")
    response = client.post("/i18n/setlang/", {"language": "en", "next": TOTP})
    assert response.status_code == 302
    assert response["Location"] == TOTP


def test_signing_out_needs_a_post_and_is_audited(client, operator):
    sign_in_password(client, "operator.bandung")
    client.post(TOTP, {"code": code_at(OPERATOR_SECRET)})
    assert client.get("/accounts/keluar/").status_code == 405
    response = client.post("/accounts/keluar/")
    assert response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session
    assert actions(operator)[-1] == "logout"
    assert client.get(REGISTRY).status_code == 302


@override_settings(TEPAT_REQUIRE_2FA=False)
def test_without_required_2fa_an_unenrolled_user_signs_in_with_a_password(client, new_supervisor):
    response = sign_in_password(client, "supervisor.jabar")
    assert response["Location"] == REGISTRY
    assert client.get(REGISTRY).status_code == 200


@override_settings(TEPAT_REQUIRE_2FA=False)
def test_an_enrolled_user_still_gives_a_code_when_2fa_is_optional(client, operator):
    assert sign_in_password(client, "operator.bandung")["Location"] == TOTP


def test_the_admin_login_goes_through_the_staff_log_in(client, db):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_the_log_in_steps_are_not_cached(client, operator, new_supervisor):
    assert "no-cache" in client.get(LOGIN)["Cache-Control"]
    sign_in_password(client, "operator.bandung")
    assert "no-cache" in client.get(TOTP)["Cache-Control"]
    other = Client()
    sign_in_password(other, "supervisor.jabar")
    assert "no-cache" in other.get(ENROL)["Cache-Control"]


def test_the_status_check_is_behind_totp_for_a_signed_in_user_too(client, operator):
    # The two-factor check skips only requests without a session cookie; a signed-in user has one.
    sign_in_password(client, "operator.bandung")
    for method in (client.get, client.post):
        response = method("/cek/")
        assert response.status_code == 302
        assert response["Location"].startswith(TOTP + "?next=")


def test_the_two_factor_check_loads_no_session_without_a_session_cookie(rf, db):
    from django.conf import settings
    from django.contrib.auth.middleware import AuthenticationMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.http import HttpResponse

    from tepat.accounts.middleware import TwoFactorRequiredMiddleware

    seen: dict[str, bool] = {}

    def view(request):
        seen["accessed"] = request.session.accessed
        return HttpResponse("ok")

    chain = SessionMiddleware(AuthenticationMiddleware(TwoFactorRequiredMiddleware(view)))
    assert chain(rf.get("/cek/")).status_code == 200
    assert seen["accessed"] is False
    # With a session cookie (here one naming no session) the check loads the session and user.
    request = rf.get("/cek/")
    request.COOKIES[settings.SESSION_COOKIE_NAME] = "x" * 32
    assert chain(request).status_code == 200
    assert seen["accessed"] is True
