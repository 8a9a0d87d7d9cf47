"""Programme and cycle pages. Views parse input, call a service or selector, and render.

The cycle page carries a cycle's whole path (create, compute, submit, approve, then issue, pay,
reconcile and close, which payments serves into the page as a panel: programs never imports
payments). Each action is offered only to the roles, scopes and states that the service would
accept; the service still checks everything, and its refusal is shown as a message.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tepat.accounts import duties, scoping
from tepat.accounts.models import Role
from tepat.accounts.selectors import staff_user
from tepat.core.errors import NotFound, TepatError
from tepat.programs import selectors, services
from tepat.programs.forms import CycleCreateForm
from tepat.programs.models import Cycle, CycleState, EntitlementState
from tepat.regions.selectors import region_names

ACTIONS = {
    "compute": (services.cycle_compute, False, gettext_lazy("Hak penerima dihitung dan dibekukan.")),
    "submit": (services.cycle_submit, False, gettext_lazy("Tahap diajukan untuk disetujui.")),
    "approve": (services.cycle_approve, False, gettext_lazy("Tahap disetujui.")),
    "return": (services.cycle_return, True, gettext_lazy("Tahap dikembalikan ke draf.")),
    "cancel": (services.cycle_cancel, True, gettext_lazy("Tahap dibatalkan.")),
}  # fmt: skip

# The whole path of a cycle, in order; the page marks each step done, current or to come.
STEPS = (
    ("create", gettext_lazy("Buat tahap")),
    ("compute", gettext_lazy("Hitung hak")),
    ("submit", gettext_lazy("Ajukan persetujuan")),
    ("approve", gettext_lazy("Setujui")),
    ("issue", gettext_lazy("Terbitkan pembayaran")),
    ("pay", gettext_lazy("Salurkan")),
    ("reconcile", gettext_lazy("Rekonsiliasi")),
    ("close", gettext_lazy("Tutup tahap")),
)

# What each history event did, as people read it (CycleEvent.action is a code).
EVENT_LABELS = {
    "create": gettext_lazy("Tahap dibuat"),
    "compute": gettext_lazy("Hak dihitung"),
    "amend": gettext_lazy("Hak diubah"),
    "cancel_entitlement": gettext_lazy("Hak dibatalkan"),
    "submit": gettext_lazy("Diajukan untuk disetujui"),
    "approve": gettext_lazy("Disetujui"),
    "return": gettext_lazy("Dikembalikan ke draf"),
    "cancel": gettext_lazy("Dibatalkan"),
    "distribute": gettext_lazy("Ditandai tersalurkan"),
    "end": gettext_lazy("Ditutup"),
}


def _role(user: Any) -> str:
    return str(Role.ADMIN) if getattr(user, "is_superuser", False) else str(user.role)


def error_text(exc: TepatError) -> str:
    """A refusal as people read it: the problems' own messages, never "field: message"."""
    errors = [p.message for p in exc.problems if p.severity == "error"]
    return "; ".join(errors) if errors else exc.message


def may_start_cycle(user: Any) -> bool:
    return (
        getattr(user, "is_authenticated", False)
        and _role(user) in services.PREPARERS
        and bool(scoping.is_national_actor(user) or getattr(user, "region_codes", None))
    )


@login_required
def programme_list(request: HttpRequest) -> HttpResponse:
    visible = Prefetch("cycles", queryset=selectors.cycles_visible(user=request.user))
    programmes = list(selectors.programmes_list().prefetch_related(visible))
    cycles = [c for p in programmes for c in p.cycles.all()]
    names = region_names({c.region_code for c in cycles if c.region_code})
    for c in cycles:
        c.region_name = names.get(c.region_code, c.region_code)  # type: ignore[attr-defined]
    return render(request, "programs/programme_list.html", {
        "programmes": programmes, "may_start": may_start_cycle(request.user),
    })  # fmt: skip


@login_required
def cycle_new(request: HttpRequest) -> HttpResponse:
    """Start a cycle: programme, code, period, tahap, region and control totals."""
    if not may_start_cycle(request.user):
        raise DjangoPermissionDenied(
            "Peran atau wilayah Anda tidak boleh menyiapkan tahap / "
            "your role or regions may not prepare cycles"
        )
    initial = {}
    if request.method == "GET" and request.GET.get("program"):
        initial["programme"] = request.GET["program"]
    form = CycleCreateForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            cycle = services.cycle_create(
                acting_user=staff_user(request), programme=d["programme"], code=d["code"].strip(),
                instalment=d["instalment"], period_start=d["period_start"],
                period_end=d["period_end"], control_count=d["control_count"],
                control_amount=d["control_amount"], region_code=d["region_code"] or "",
            )  # fmt: skip
        except TepatError as exc:
            if exc.problems:
                form.add_problems(exc.problems)
            else:
                form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Tahap dibuat sebagai draf. Langkah berikutnya: hitung hak.")
            )
            return redirect("programs:cycle", cycle_id=cycle.public_id)
    status = 422 if request.method == "POST" else 200
    return render(request, "programs/cycle_new.html", {"form": form}, status=status)


def cycle_or_404(request: HttpRequest, cycle_id: str) -> Cycle:
    """The cycle if the signed-in user may open it; a page never tells an out-of-scope cycle
    from a missing one."""
    try:
        return selectors.cycle_get(user=request.user, public_id=cycle_id)
    except NotFound as exc:
        raise Http404 from exc


def _may_approve(user: Any, cycle: Cycle) -> bool:
    """Whether the approve button is offered: an approver who made nothing of this cycle and is
    not barred by separation of duties (the service checks the same, and more, again)."""
    makers = services.cycle_makers(cycle)
    return (
        user.pk not in makers
        and not duties.managed_staff_since(user)
        and not duties.account_changed_by(user, makers)
    )


def cycle_actions(user: Any, cycle: Cycle) -> set[str]:
    """The programme-side actions `user` may take on `cycle` in its current state."""
    if not scoping.can_act_on_region(user, cycle.region_code):
        return set()
    role, state, out = _role(user), cycle.state, set()
    if role in services.PREPARERS and state == CycleState.DRAFT:
        out.add("compute")
        if cycle.computed_at is not None:
            out.add("submit")
    if role in services.APPROVERS:
        if state == CycleState.TO_APPROVE:
            out.add("return")
            if _may_approve(user, cycle):
                out.add("approve")
        if state in (CycleState.DRAFT, CycleState.TO_APPROVE, CycleState.APPROVED):
            out.add("cancel")
    return out


def cycle_steps(cycle: Cycle) -> list[dict[str, Any]]:
    """The path with each step's status: "done", "current" or "todo"."""
    state = cycle.state
    if state == CycleState.DRAFT:
        current = 2 if cycle.computed_at is not None else 1
    elif state == CycleState.TO_APPROVE:
        current = 3
    elif state == CycleState.APPROVED:
        by_state = dict(cycle.entitlements.order_by().values_list("state").annotate(n=Count("id")))
        moved = sum(by_state.get(s, 0) for s in ("sent", "paid", "rejected"))
        waiting = by_state.get(EntitlementState.APPROVED, 0) + by_state.get("sent", 0)
        current = 4 if not moved else (5 if waiting else 6)
    elif state == CycleState.DISTRIBUTED:
        current = 7
    elif state == CycleState.ENDED:
        current = len(STEPS)
    else:  # cancelled: where it stopped
        reached = set(cycle.events.values_list("action", flat=True))
        current = 4 if "approve" in reached else (2 if "compute" in reached else 1)
    return [
        {"key": key, "label": label, "n": i + 1,
         "status": "done" if i < current else ("current" if i == current else "todo")}
        for i, (key, label) in enumerate(STEPS)
    ]  # fmt: skip


@login_required
def cycle_detail(request: HttpRequest, cycle_id: str) -> HttpResponse:
    cycle = cycle_or_404(request, cycle_id)
    entitlements = selectors.entitlements_visible(user=request.user, cycle=cycle)
    shown = list(entitlements[:50])
    villages = region_names({e.village_code for e in shown})
    for e in shown:
        e.village_name = villages.get(e.village_code, e.village_code)  # type: ignore[attr-defined]
    events = list(selectors.cycle_events(cycle=cycle))
    for ev in events:
        ev.label = EVENT_LABELS.get(ev.action, ev.action)  # type: ignore[attr-defined]
        ev.to_label = (  # type: ignore[attr-defined]
            CycleState(ev.to_state).label if ev.to_state in CycleState.values else ev.to_state
        )
    region = cycle.region_code
    return render(request, "programs/cycle_detail.html", {
        "cycle": cycle,
        "region_name": region_names([region]).get(region, region) if region else "",
        "events": events,
        "entitlements": shown,
        "visible_count": entitlements.count(),
        "actions": cycle_actions(request.user, cycle),
        "steps": cycle_steps(cycle),
        "paying": cycle.state not in (CycleState.DRAFT, CycleState.TO_APPROVE)
        and cycle.approved_at is not None,
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
        messages.error(request, error_text(exc))
    else:
        messages.success(request, str(done))
    return HttpResponseRedirect(reverse("programs:cycle", kwargs={"cycle_id": cycle_id}))
