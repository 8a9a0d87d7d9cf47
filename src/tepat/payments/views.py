"""Payment pages: progress (htmx partial), dead letters, reconciliation."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tepat.accounts import scoping
from tepat.accounts.models import Role
from tepat.accounts.selectors import staff_user
from tepat.core.errors import NotFound, TepatError
from tepat.payments import selectors, services
from tepat.payments.models import Channel, PaymentState
from tepat.payments.providers import G2PConnectAdapter
from tepat.programs.models import Cycle, CycleState
from tepat.programs.selectors import cycle_get, cycle_get_whole
from tepat.programs.views import error_text


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
    p = selectors.cycle_progress(user=request.user, cycle=cycle)
    return render(request, "payments/_progress.html", {
        "cycle": cycle, "p": p, "states": _state_columns(p), "channels": _channel_rows(p),
    })  # fmt: skip


# The resolutions of a dead letter, as people read them (services.RESOLUTIONS are codes).
RESOLUTION_LABELS = {
    "retry": gettext_lazy("Kirim ulang"),
    "fallback_cash": gettext_lazy("Alihkan ke tunai melalui PT Pos"),
    "write_off": gettext_lazy("Hapus (tidak dibayar)"),
}


def _role(user: Any) -> str:
    return str(Role.ADMIN) if getattr(user, "is_superuser", False) else str(user.role)


def panel_actions(user: Any, cycle: Cycle, p: dict[str, Any]) -> set[str]:
    """The payment-side actions `user` may take on `cycle` now: issue, reconcile, distribute,
    close. Offered only to the roles and scopes the services accept, in the states they accept
    (the services check again; a refusal is shown as a message)."""
    if not scoping.can_act_on_region(user, cycle.region_code):
        return set()
    role, state, out = _role(user), cycle.state, set()
    in_flight = sum(p["totals"].get(s, 0) for s in ("issued", "sending", "sent"))
    if role in services.OPERATORS:
        if state == CycleState.APPROVED and p["total"] < cycle.entitled_count:
            out.add("issue")
        if state in (CycleState.APPROVED, CycleState.DISTRIBUTED) and p["total"]:
            out.add("reconcile")
    if role in services.APPROVERS:
        if state == CycleState.APPROVED and p["total"] and not in_flight:
            out.add("distribute")
        if state == CycleState.DISTRIBUTED:
            out.add("close")
    return out


@login_required
def panel(request: HttpRequest, cycle_id: str) -> HttpResponse:
    """The payments part of a cycle's page (htmx): progress, and the actions the user may take.
    It polls itself while payments are still on their way, and stops (HTTP 286) once none is."""
    cycle = _cycle_or_404(request, cycle_id)
    p = selectors.cycle_progress(user=request.user, cycle=cycle)
    in_flight = sum(p["totals"].get(s, 0) for s in ("issued", "sending", "sent"))
    polling = cycle.state == CycleState.APPROVED and in_flight > 0
    return render(request, "payments/_panel.html", {
        "cycle": cycle, "p": p, "polling": polling, "in_flight": in_flight,
        "states": _state_columns(p), "channels": _channel_rows(p),
        "actions": panel_actions(request.user, cycle, p),
    }, status=200 if polling or not request.headers.get("HX-Request") else 286)  # fmt: skip


def _state_columns(p: dict[str, Any]) -> list[tuple[str, str]]:
    """The payment states that occur, with their labels, in the model's order."""
    return [(s.value, str(s.label)) for s in PaymentState if p["totals"].get(s.value)]


def _channel_rows(p: dict[str, Any]) -> list[tuple[str, list[int]]]:
    labels = dict(Channel.choices)
    cols = [s for s, _label in _state_columns(p)]
    return [
        (str(labels.get(ch, ch)), [states.get(s, 0) for s in cols])
        for ch, states in p["by_channel"].items()
    ]


@login_required
@require_POST
def issue(request: HttpRequest, cycle_id: str) -> HttpResponseRedirect:
    cycle = _cycle_or_404(request, cycle_id)
    try:
        n = services.payments_issue(acting_user=staff_user(request), cycle=cycle)
    except NotFound as exc:
        raise Http404 from exc
    except TepatError as exc:
        messages.error(request, error_text(exc))
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
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Tahap dibatalkan."))
    return HttpResponseRedirect(reverse("programs:cycle", kwargs={"cycle_id": cycle_id}))


@login_required
def dead_letters(request: HttpRequest) -> HttpResponse:
    cycle_id = request.GET.get("cycle")
    cycle = _cycle_or_404(request, cycle_id) if cycle_id else None
    rows = selectors.dead_letters(user=request.user, cycle=cycle)[:200]
    may_resolve = _role(request.user) in services.OPERATORS
    actions = [(a, RESOLUTION_LABELS.get(a, a)) for a in services.RESOLUTIONS]
    return render(request, "payments/dead_letters.html", {
        "rows": rows, "cycle": cycle, "actions": actions, "may_resolve": may_resolve,
    })  # fmt: skip


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
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Pembayaran diselesaikan."))
    return HttpResponseRedirect(reverse("payments:dead_letters"))


@login_required
def reconciliation(request: HttpRequest, cycle_id: str) -> HttpResponse:
    cycle = _cycle_or_404(request, cycle_id, whole=True)
    p = selectors.cycle_progress(user=request.user, cycle=cycle)
    actions = panel_actions(request.user, cycle, p)
    if scoping.is_national_actor(request.user) and _role(request.user) in services.OPERATORS:
        actions.add("import")
    if scoping.can_act_on_region(request.user, cycle.region_code) and (
        _role(request.user) in services.OPERATORS
    ):
        actions.add("explain")
    return render(request, "payments/reconciliation.html", {
        "cycle": cycle, "differences": selectors.differences(user=request.user, cycle=cycle)[:500],
        "p": p, "actions": actions,
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
        messages.error(request, error_text(exc))
    back = "programs:cycle" if request.POST.get("next") == "cycle" else "payments:reconciliation"
    return HttpResponseRedirect(reverse(back, kwargs={"cycle_id": cycle_id}))
