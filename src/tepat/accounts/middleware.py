"""Staff sessions: idle and absolute time-outs, then the TOTP and password-change gates."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from tepat.accounts.models import User
from tepat.accounts.services import totp_required
from tepat.accounts.views import SESSION_IDLE_EXPIRED, SESSION_VERIFIED
from tepat.core.audit import audit_record

# Unix seconds: when the session was last seen active, and when it began.
SESSION_LAST_SEEN = "tepat_last_seen"
SESSION_STARTED = "tepat_session_started"
DEFAULT_IDLE_TIMEOUT_S = 1800
# The last-seen time is written at most this often, so an active session is not saved (a
# database write) on every request.
LAST_SEEN_RESOLUTION_S = 60


def _redirect_or_401(request: HttpRequest, target: str, *, code: str, message: str) -> HttpResponse:
    """Pages redirect; the JSON API answers 401 (a script cannot follow a redirect to a form)."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"code": code, "message": message}, status=401)
    if request.headers.get("HX-Request") == "true":
        # htmx would follow a plain redirect and swap the whole page into a fragment. (The
        # header is read directly: HtmxMiddleware runs after these middlewares.)
        return HttpResponseClientRedirect(target)
    return redirect(target)


def _has_session_cookie(request: HttpRequest) -> bool:
    # AuthenticationMiddleware's user comes from the session alone, and a request without a
    # session cookie has none: it is anonymous. Skipping the checks there (the public status
    # check, every citizen page) saves loading an empty session and user per request.
    return bool(request.COOKIES.get(settings.SESSION_COOKIE_NAME))


class IdleTimeoutMiddleware:
    """A staff session ends after TEPAT_IDLE_TIMEOUT_S without a request, and in any case
    SESSION_COOKIE_AGE after it began (the idle clock's writes would otherwise keep extending
    the cookie's own expiry). Citizens' sessions carry no staff user and keep their own rules."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _has_session_cookie(request):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if isinstance(user, User) and user.is_authenticated:
            now = int(time.time())
            session = request.session
            last_seen = session.get(SESSION_LAST_SEEN)
            started = session.get(SESSION_STARTED)
            idle_limit = int(getattr(settings, "TEPAT_IDLE_TIMEOUT_S", DEFAULT_IDLE_TIMEOUT_S))
            idle = idle_limit > 0 and isinstance(last_seen, int) and now - last_seen > idle_limit
            too_old = isinstance(started, int) and now - started > settings.SESSION_COOKIE_AGE
            if idle or too_old:
                return self._expire(request, user, reason="idle" if idle else "max_age")
            if not isinstance(started, int):
                session[SESSION_STARTED] = now
            if not isinstance(last_seen, int) or now - last_seen >= LAST_SEEN_RESOLUTION_S:
                session[SESSION_LAST_SEEN] = now
        return self.get_response(request)

    def _expire(self, request: HttpRequest, user: User, *, reason: str) -> HttpResponse:
        audit_record(
            actor=user,
            action="logout.session_expired",
            target_type="user",
            target_id=str(user.pk),
            request=request,
            detail={"reason": reason},
        )
        auth_logout(request)
        request.session[SESSION_IDLE_EXPIRED] = True
        target = f"{reverse('accounts:login')}?{urlencode({'next': request.get_full_path()})}"
        return _redirect_or_401(
            request,
            target,
            code="session_expired",
            message=_("Sesi berakhir karena lama tidak aktif. Silakan masuk lagi."),
        )


class TwoFactorRequiredMiddleware:
    """A signed-in staff member who has not passed TOTP yet reaches only the log-in steps, and
    one whose password an admin chose reaches only the password change after that.

    Pages redirect to the step; the JSON API answers 401, since a script cannot follow a
    redirect to a form. Static files, language switching and sign-out stay open.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def _exempt(self, path: str) -> bool:
        open_paths = (
            reverse("accounts:login"),
            reverse("accounts:totp"),
            reverse("accounts:totp_enrol"),
            reverse("accounts:logout"),
            reverse("set_language"),
            settings.STATIC_URL or "/static/",
        )
        return any(path == p or (p.endswith("/") and path.startswith(p)) for p in open_paths)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if isinstance(user, SimpleLazyObject) and not _has_session_cookie(request):
            # With a session cookie, or a user set otherwise, the checks run in full.
            return self.get_response(request)
        if not (isinstance(user, User) and user.is_authenticated):
            return self.get_response(request)
        path = request.path_info
        if (
            not request.session.get(SESSION_VERIFIED)
            and totp_required(user)
            and not self._exempt(path)
        ):
            step = "accounts:totp" if user.totp_confirmed_at else "accounts:totp_enrol"
            return _redirect_or_401(
                request,
                f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}",
                code="two_factor_required",
                message=_("Selesaikan autentikasi dua langkah terlebih dahulu."),
            )
        change = reverse("accounts:password_change")
        if user.must_change_password and path != change and not self._exempt(path):
            return _redirect_or_401(
                request,
                f"{change}?{urlencode({'next': request.get_full_path()})}",
                code="password_change_required",
                message=_("Ganti kata sandi Anda terlebih dahulu."),
            )
        return self.get_response(request)
