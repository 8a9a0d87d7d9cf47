"""Payment pages: progress (htmx partial), dead letters, reconciliation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tepat.accounts.selectors import staff_user
from tepat.core.errors import NotFound, TepatError
from tepat.payments import selectors, services
from tepat.payments.providers import G2PConnectAdapter
from tepat.programs.models import Cycle
from tepat.programs.selectors import cycle_get, cycle_get_whole


def _cycle_or_404(request: HttpRequest, cycle_id: str, *, whole: bool = False) -> Cycle:
    """The cycle if the user may open it (`whole`: read it as a whole, for reconciliation);
    out of scope looks exactly like missing."""
    try:
        if whole:
            return cycle_get_whole(user=request.user, public_id=cycle_id)
        return cycle_get(user=request.user, public_id=cycle_id)
    except NotFound as exc:
        raise Http404 from exc


@login_required
def progress(request: HttpRequest, cycle_id: str) -> HttpResponse:
    cycle = _cycle_or_404(request, cycle_id)
    return render(
        request,
        "payments/_progress.html",
        {"cycle": cycle, "p": selectors.cycle_progress(user=request.user, cycle=cycle)},
    )


@login_required
@require_POST
def issue(request: HttpRequest, cycle_id: str) -> HttpResponseRedirect:
    cycle = _cycle_or_404(request, cycle_id)
    try:
        n = services.payments_issue(acting_user=staff_user(request), cycle=cycle)
    except NotFound as exc:
        raise Http404 from exc
    except TepatError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(n)d pembayaran diterbitkan.") % {"n": n})
    return HttpResponseRedirect(reverse("programs:cycle", kwargs={"cycle_id": cycle_id}))


@login_required
@require_POST
def cancel(request: HttpRequest, cycle_id: str) -> HttpResponseRedirect:
    """Cancel a cycle from its page: after approval its payments are stopped first."""
    cycle = _cycle_or_404(request, cycle_id)
    try:
        services.cycle_cancel(acting_user=staff_user(request), cycle=cycle,
                              reason=request.POST.get("reason", ""))  # fmt: skip
    except NotFound as exc:
        raise Http404 from exc
    except TepatError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Tahap dibatalkan."))
    return HttpResponseRedirect(reverse("programs:cycle", kwargs={"cycle_id": cycle_id}))


@login_required
def dead_letters(request: HttpRequest) -> HttpResponse:
    cycle_id = request.GET.get("cycle")
    cycle = _cycle_or_404(request, cycle_id) if cycle_id else None
    rows = selectors.dead_letters(user=request.user, cycle=cycle)[:200]
    return render(request, "payments/dead_letters.html", {"rows": rows, "cycle": cycle,
                                                          "actions": services.RESOLUTIONS})  # fmt: skip


@login_required
@require_POST
def resolve(request: HttpRequest, payment_id: str) -> HttpResponseRedirect:
    try:
        p = selectors.payment_get(user=request.user, public_id=payment_id)
        services.payment_resolve(acting_user=staff_user(request), payment=p, action=request.POST.get("action", ""),
                                 reason=request.POST.get("reason", ""))  # fmt: skip
    except NotFound as exc:
        raise Http404 from exc
    except TepatError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Pembayaran diselesaikan."))
    return HttpResponseRedirect(reverse("payments:dead_letters"))


@login_required
def reconciliation(request: HttpRequest, cycle_id: str) -> HttpResponse:
    cycle = _cycle_or_404(request, cycle_id, whole=True)
    return render(request, "payments/reconciliation.html", {
        "cycle": cycle, "differences": selectors.differences(user=request.user, cycle=cycle)[:500],
        "p": selectors.cycle_progress(user=request.user, cycle=cycle),
    })  # fmt: skip


@login_required
@require_POST
def reconciliation_action(request: HttpRequest, cycle_id: str, action: str) -> HttpResponseRedirect:
    cycle = _cycle_or_404(request, cycle_id, whole=True)
    try:
        if action == "import":
            upload = request.FILES.get("statement")
            if upload is None:
                raise TepatError(
                    _("Pilih berkas rekening koran."), code="required", field="statement"
                )
            services.statement_import(acting_user=staff_user(request), provider=request.POST.get("provider", "g2p-connect"),
                                      file_name=upload.name or "statement.csv", data=upload.read(),
                                      adapter=G2PConnectAdapter())  # fmt: skip
            rec = services.cycle_reconcile(acting_user=staff_user(request), cycle=cycle)
            messages.success(request, _("Rekening koran diimpor: %(m)d cocok, %(u)d selisih belum dijelaskan.")
                             % {"m": rec.matched, "u": rec.unexplained})  # fmt: skip
        elif action == "reconcile":
            rec = services.cycle_reconcile(acting_user=staff_user(request), cycle=cycle)
            messages.success(
                request,
                _("%(m)d cocok, %(u)d selisih belum dijelaskan.")
                % {"m": rec.matched, "u": rec.unexplained},
            )
        elif action == "explain":
            d = selectors.difference_get(
                user=request.user, public_id=request.POST.get("difference", "")
            )
            services.difference_explain(
                acting_user=staff_user(request),
                difference=d,
                explanation=request.POST.get("explanation", ""),
            )
        elif action == "distribute":
            services.cycle_distribute(acting_user=staff_user(request), cycle=cycle)
            messages.success(request, _("Tahap ditandai tersalurkan."))
        elif action == "close":
            services.cycle_close(acting_user=staff_user(request), cycle=cycle)
            messages.success(request, _("Tahap ditutup."))
        else:
            raise TepatError(_("Tindakan tidak dikenal."), code="unknown_action")
    except NotFound as exc:
        raise Http404 from exc
    except TepatError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("payments:reconciliation", kwargs={"cycle_id": cycle_id}))
