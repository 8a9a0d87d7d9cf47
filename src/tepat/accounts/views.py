"""Staff log-in pages: password, then TOTP (enrolment the first time), a password change where
someone else chose the password, and sign-out by POST."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from tepat.accounts import selectors, services
from tepat.accounts.forms import CodeForm, LoginForm, PasswordChangeForm
from tepat.accounts.models import User
from tepat.core.errors import TepatError

SESSION_VERIFIED = "tepat_2fa_verified"
# Set by the idle-timeout middleware in the fresh session after it signed someone out.
SESSION_IDLE_EXPIRED = "tepat_idle_expired"
_SESSION_NEXT = "tepat_login_next"


def is_verified(request: HttpRequest) -> bool:
    return bool(request.session.get(SESSION_VERIFIED))


def _safe_next(request: HttpRequest, candidate: str | None) -> str | None:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def _finish(request: HttpRequest, user: User, *, second_factor: str) -> HttpResponseRedirect:
    services.login_complete(user=user, request=request, second_factor=second_factor)
    # A new session key at each rise in privilege defeats session fixation.
    request.session.cycle_key()
    request.session[SESSION_VERIFIED] = True
    if user.must_change_password:
        # The destination stays in the session for after the change.
        return redirect("accounts:password_change")
    target = request.session.pop(_SESSION_NEXT, None) or resolve_url(settings.LOGIN_REDIRECT_URL)
    return redirect(target)


def _remember_next(request: HttpRequest) -> None:
    next_url = _safe_next(request, request.GET.get("next"))
    if next_url:
        request.session[_SESSION_NEXT] = next_url


def _current_user(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    user = _current_user(request)
    if user is not None and (is_verified(request) or not services.totp_required(user)):
        return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
    if request.session.pop(SESSION_IDLE_EXPIRED, False):
        messages.info(request, _("Sesi berakhir karena lama tidak aktif. Silakan masuk lagi."))
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.login_check_password(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                request=request,
            )
        except TepatError as exc:
            form.add_error(None, exc.message)
        else:
            auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[SESSION_VERIFIED] = False
            if next_url:
                request.session[_SESSION_NEXT] = next_url
            if not services.totp_required(user):
                return _finish(request, user, second_factor="none")
            if user.totp_confirmed_at is None:
                return redirect("accounts:totp_enrol")
            return redirect("accounts:totp")
    return render(
        request, "accounts/login.html", {"form": form, "next": next_url or ""}, status=200
    )


def _refused(request: HttpRequest, exc: TepatError) -> HttpResponseRedirect:
    """Locked mid-way: end the half-open session and start again from the password."""
    auth_logout(request)
    messages.error(request, exc.message)
    return redirect("accounts:login")


@csrf_protect
@never_cache
def totp_view(request: HttpRequest) -> HttpResponse:
    user = _current_user(request)
    if user is None:
        return redirect("accounts:login")
    if is_verified(request):
        return redirect(settings.LOGIN_REDIRECT_URL)
    if user.totp_confirmed_at is None:
        return redirect("accounts:totp_enrol")
    _remember_next(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.totp_verify(user=user, code=form.cleaned_data["code"], request=request)
        except TepatError as exc:
            if services.is_locked(user):
                return _refused(request, exc)
            form.add_error("code", exc.message)
        else:
            return _finish(request, user, second_factor="totp")
    return render(request, "accounts/totp.html", {"form": form})


@csrf_protect
@never_cache
def totp_enrol_view(request: HttpRequest) -> HttpResponse:
    user = _current_user(request)
    if user is None:
        return redirect("accounts:login")
    if user.totp_confirmed_at is not None:
        return redirect("accounts:totp")
    _remember_next(request)
    secret = services.totp_begin_enrolment(user=user, session=request.session, request=request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.totp_confirm(
                user=user, code=form.cleaned_data["code"], session=request.session, request=request
            )
        except TepatError as exc:
            if services.is_locked(user):
                return _refused(request, exc)
            if exc.code == "totp_already_enrolled":
                # Another session enrolled first: this one signs in with that authenticator.
                return redirect("accounts:totp")
            form.add_error("code", exc.message)
        else:
            messages.success(request, _("Autentikasi dua langkah aktif."))
            return _finish(request, user, second_factor="totp_enrolment")
    uri = selectors.totp_provisioning_uri(user=user, secret=secret)
    context = {
        "form": form,
        # Groups of four are easier to type into an authenticator by hand.
        "secret_groups": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "qr_svg": selectors.totp_qr_svg(uri=uri, title=_("Kode QR untuk aplikasi autentikator")),
    }
    return render(request, "accounts/totp_enrol.html", context)


@sensitive_post_parameters("old_password", "new_password", "new_password_again")
@csrf_protect
@never_cache
def password_change_view(request: HttpRequest) -> HttpResponse:
    """Change one's own password (the old one first). Required after an admin chose it."""
    user = _current_user(request)
    if user is None:
        return redirect(f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': request.path})}")
    _remember_next(request)
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                user=user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
                request=request,
            )
        except TepatError as exc:
            if services.is_locked(user):
                return _refused(request, exc)
            field = exc.field if exc.field in form.fields else None
            form.add_error(field, exc.message)
        else:
            # This session stays signed in under a new key; every other session of the user
            # carries the old password's hash and ends at its next request.
            update_session_auth_hash(request, user)
            messages.success(request, _("Kata sandi diganti. Sesi lain akun ini telah diakhiri."))
            target = request.session.pop(_SESSION_NEXT, None) or resolve_url(
                settings.LOGIN_REDIRECT_URL
            )
            return redirect(target)
    return render(
        request,
        "accounts/password_change.html",
        {"form": form, "forced": user.must_change_password},
    )


@require_POST
@csrf_protect
def logout_view(request: HttpRequest) -> HttpResponse:
    user = _current_user(request)
    if user is not None:
        services.logout_record(user=user, request=request)
    auth_logout(request)
    messages.info(request, _("Anda telah keluar."))
    return redirect("accounts:login")
