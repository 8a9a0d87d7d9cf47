"""Programme and cycle pages. Views parse input, call a service or selector, and render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tepat.accounts.selectors import staff_user
from tepat.core.errors import NotFound, TepatError
from tepat.programs import selectors, services
from tepat.programs.models import Cycle

ACTIONS = {
    "compute": (services.cycle_compute, False, _("Hak penerima dihitung dan dibekukan.")),
    "submit": (services.cycle_submit, False, _("Tahap diajukan untuk disetujui.")),
    "approve": (services.cycle_approve, False, _("Tahap disetujui.")),
    "return": (services.cycle_return, True, _("Tahap dikembalikan ke draf.")),
    "cancel": (services.cycle_cancel, True, _("Tahap dibatalkan.")),
}


@login_required
def programme_list(request: HttpRequest) -> HttpResponse:
    visible = Prefetch("cycles", queryset=selectors.cycles_visible(user=request.user))
    programmes = list(selectors.programmes_list().prefetch_related(visible))
    return render(request, "programs/programme_list.html", {"programmes": programmes})


def cycle_or_404(request: HttpRequest, cycle_id: str) -> Cycle:
    """The cycle if the signed-in user may open it; a page never tells an out-of-scope cycle
    from a missing one."""
    try:
        return selectors.cycle_get(user=request.user, public_id=cycle_id)
    except NotFound as exc:
        raise Http404 from exc


@login_required
def cycle_detail(request: HttpRequest, cycle_id: str) -> HttpResponse:
    cycle = cycle_or_404(request, cycle_id)
    entitlements = selectors.entitlements_visible(user=request.user, cycle=cycle)
    return render(request, "programs/cycle_detail.html", {
        "cycle": cycle,
        "events": selectors.cycle_events(cycle=cycle),
        "entitlements": entitlements[:50],
        "visible_count": entitlements.count(),
        "transitions": services.TRANSITIONS[cycle.state],
    })  # fmt: skip


@login_required
@require_POST
def cycle_action(request: HttpRequest, cycle_id: str, action: str) -> HttpResponseRedirect:
    cycle = cycle_or_404(request, cycle_id)
    if action not in ACTIONS:
        messages.error(request, _("Tindakan tidak dikenal."))
        return redirect("programs:cycle", cycle_id=cycle_id)
    fn, needs_reason, done = ACTIONS[action]
    try:
        if needs_reason:
            fn(acting_user=staff_user(request), cycle=cycle, reason=request.POST.get("reason", ""))  # type: ignore[operator]
        else:
            fn(acting_user=staff_user(request), cycle=cycle)  # type: ignore[operator]
    except NotFound as exc:
        raise Http404 from exc
    except TepatError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return HttpResponseRedirect(reverse("programs:cycle", kwargs={"cycle_id": cycle_id}))
