"""Payment pages: progress (htmx partial), dead letters, reconciliation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tepat.core.errors import TepatError
from tepat.payments import selectors, services
from tepat.payments.providers import G2PConnectAdapter
from tepat.programs.selectors import cycle_get


@login_required
def progress(request: HttpRequest, cycle_id: str) -> HttpResponse:
    cycle = cycle_get(public_id=cycle_id)
    return render(
        request,
        "payments/_progress.html",
        {"cycle": cycle, "p": selectors.cycle_progress(cycle=cycle)},
    )


@login_required
@require_POST
def issue(request: HttpRequest, cycle_id: str) -> HttpResponseRedirect:
    cycle = cycle_get(public_id=cycle_id)
    try:
        n = services.payments_issue(acting_user=request.user, cycle=cycle)
    except TepatError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(n)d pembayaran diterbitkan.") % {"n": n})
    return HttpResponseRedirect(reverse("programs:cycle", kwargs={"cycle_id": cycle_id}))


@login_required
def dead_letters(request: HttpRequest) -> HttpResponse:
    cycle_id = request.GET.get("cycle")
    cycle = cycle_get(public_id=cycle_id) if cycle_id else None
    rows = selectors.dead_letters(user=request.user, cycle=cycle)[:200]
    return render(request, "payments/dead_letters.html", {"rows": rows, "cycle": cycle,
                                                          "actions": services.RESOLUTIONS})  # fmt: skip


@login_required
@require_POST
def resolve(request: HttpRequest, payment_id: str) -> HttpResponseRedirect:
    try:
        p = selectors.payment_get(user=request.user, public_id=payment_id)
        services.payment_resolve(acting_user=request.user, payment=p, action=request.POST.get("action", ""),
                                 reason=request.POST.get("reason", ""))  # fmt: skip
    except TepatError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Pembayaran diselesaikan."))
    return HttpResponseRedirect(reverse("payments:dead_letters"))


@login_required
def reconciliation(request: HttpRequest, cycle_id: str) -> HttpResponse:
    cycle = cycle_get(public_id=cycle_id)
    return render(request, "payments/reconciliation.html", {
        "cycle": cycle, "differences": selectors.differences(cycle=cycle)[:500],
        "p": selectors.cycle_progress(cycle=cycle),
    })  # fmt: skip


@login_required
@require_POST
def reconciliation_action(request: HttpRequest, cycle_id: str, action: str) -> HttpResponseRedirect:
    cycle = cycle_get(public_id=cycle_id)
    try:
        if action == "import":
            upload = request.FILES.get("statement")
            if upload is None:
                raise TepatError(
                    _("Pilih berkas rekening koran."), code="required", field="statement"
                )
            services.statement_import(acting_user=request.user, provider=request.POST.get("provider", "g2p-connect"),
                                      file_name=upload.name or "statement.csv", data=upload.read(),
                                      adapter=G2PConnectAdapter())  # fmt: skip
            rec = services.cycle_reconcile(acting_user=request.user, cycle=cycle)
            messages.success(request, _("Rekening koran diimpor: %(m)d cocok, %(u)d selisih belum dijelaskan.")
                             % {"m": rec.matched, "u": rec.unexplained})  # fmt: skip
        elif action == "reconcile":
            rec = services.cycle_reconcile(acting_user=request.user, cycle=cycle)
            messages.success(
                request,
                _("%(m)d cocok, %(u)d selisih belum dijelaskan.")
                % {"m": rec.matched, "u": rec.unexplained},
            )
        elif action == "explain":
            d = selectors.difference_get(pk=int(request.POST.get("difference", "0") or 0))
            services.difference_explain(
                acting_user=request.user,
                difference=d,
                explanation=request.POST.get("explanation", ""),
            )
        elif action == "distribute":
            services.cycle_distribute(acting_user=request.user, cycle=cycle)
            messages.success(request, _("Tahap ditandai tersalurkan."))
        elif action == "close":
            services.cycle_close(acting_user=request.user, cycle=cycle)
            messages.success(request, _("Tahap ditutup."))
        else:
            raise TepatError(_("Tindakan tidak dikenal."), code="unknown_action")
    except TepatError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("payments:reconciliation", kwargs={"cycle_id": cycle_id}))
