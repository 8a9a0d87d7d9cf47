from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from tepat.accounts.models import User
from tepat.accounts.services import totp_required
from tepat.accounts.views import SESSION_VERIFIED


class TwoFactorRequiredMiddleware:
    """A signed-in staff member who has not passed TOTP yet reaches only the log-in steps.

    Pages redirect to the TOTP step; the JSON API answers 401, since a script cannot follow a
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
        if isinstance(user, SimpleLazyObject) and not request.COOKIES.get(
            settings.SESSION_COOKIE_NAME
        ):
            # AuthenticationMiddleware's user comes from the session alone, and a request
            # without a session cookie has none: it is anonymous. Skipping the check there (the
            # public status check, every citizen page) saves loading an empty session and user
            # per request; with a session cookie, or a user set otherwise, it runs in full.
            return self.get_response(request)
        if (
            isinstance(user, User)
            and user.is_authenticated
            and not request.session.get(SESSION_VERIFIED)
            and totp_required(user)
            and not self._exempt(request.path_info)
        ):
            if request.path_info.startswith("/api/"):
                return JsonResponse(
                    {
                        "code": "two_factor_required",
                        "message": _("Selesaikan autentikasi dua langkah terlebih dahulu."),
                    },
                    status=401,
                )
            step = "accounts:totp" if user.totp_confirmed_at else "accounts:totp_enrol"
            target = f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}"
            if request.headers.get("HX-Request") == "true":
                # htmx would follow a plain redirect and swap the code form into a fragment.
                # (The header is read directly: HtmxMiddleware runs after this one.)
                return HttpResponseClientRedirect(target)
            return redirect(target)
        return self.get_response(request)
