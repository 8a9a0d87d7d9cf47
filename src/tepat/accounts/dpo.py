"""The data protection officer (Pejabat Pelindungan Data Pribadi, UU 27/2022 Art. 53-54) reads
the audit log and the incident register, manages incidents, and reaches nothing else.

The services already refuse the role (no scopes, no role set names it), but a new page or API
would be one forgotten check away from a silent 200 with an empty list. So a middleware closes
everything to a DPO session except the DPO's pages, their own log-in and password steps, and
pages anyone may open (the public portal, transparency, the ledger's verifier files): every
other staff page and API answers a plain 403 that says why. The list fails closed: a new staff
page is shut to the DPO until someone adds it here.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _

from tepat.accounts.models import Role

# The DPO's own pages and API (monitoring: incidents, audit log; privacy: records of processing).
DPO_PREFIXES = (
    "/pemantauan/insiden/",
    "/pemantauan/audit/",
    "/privasi/catatan/",
    "/api/monitoring/incidents",
    "/api/monitoring/audit-events",
)
# Open to anyone, signed in or not: a DPO sees them as any visitor does.
PUBLIC_NAMESPACES = frozenset({"portal", "transparency", "ledger"})
PUBLIC_URL_NAMES = frozenset(
    {
        "set_language",
        "grievances:complaint_new",
        "grievances:track",
        "grievances:complaint_status",
        "grievances:report_new",
        "grievances:report_status",
    }
)
PUBLIC_API_PREFIXES = (
    "/api/transparency/",
    "/api/ledger/",
    "/api/regions/",
    "/api/grievances/complaints",
    "/api/verification/key",
)
# The DPO's own session: signing in, the second factor, their password, signing out.
OWN_ACCOUNT_NAMESPACE = "accounts"


def is_dpo(user: object) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "role", None) == Role.DPO
        and not getattr(user, "is_superuser", False)
    )


def dpo_may_open(path: str) -> bool:
    """Whether a DPO session may reach `path` at all (the view still checks the rest)."""
    if path.startswith(DPO_PREFIXES) or path.startswith(PUBLIC_API_PREFIXES):
        return True
    static = settings.STATIC_URL or "/static/"
    if path.startswith(static if static.startswith("/") else f"/{static}"):
        return True
    try:
        match = resolve(path)
    except Resolver404:
        return True  # nothing there: the 404 says no more than it says to anyone
    if match.namespace == OWN_ACCOUNT_NAMESPACE or match.namespace in PUBLIC_NAMESPACES:
        return True
    return match.view_name in PUBLIC_URL_NAMES


class DpoAccessMiddleware:
    """A DPO session reaches only `dpo_may_open` paths; the rest answers 403 with the reason."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if not is_dpo(user) or dpo_may_open(request.path_info):
            return self.get_response(request)
        if request.method == "GET" and request.path_info == reverse(settings.LOGIN_REDIRECT_URL):
            # Where a log-in lands without a `next`: the DPO's own home instead of a 403.
            return redirect("monitoring:incidents")
        message = _(
            "Pejabat Pelindungan Data Pribadi hanya dapat membuka register insiden, log audit "
            "dan catatan pemrosesan; halaman ini tidak termasuk."
        )
        if request.path_info.startswith("/api/"):
            return JsonResponse({"code": "forbidden", "message": message}, status=403)
        return render(request, "accounts/dpo_forbidden.html", {"message": message}, status=403)
