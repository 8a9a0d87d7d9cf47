"""Operator monitoring pages: live progress (htmx polling), alerts with acknowledge/resolve."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tepat.core.errors import NotFound, TepatError
from tepat.monitoring import selectors, services

POLL_SECONDS = 10


def _live_context(request: HttpRequest) -> dict[str, object]:
    return {
        "live": selectors.live_progress(user=request.user),
        "backlog": selectors.backlog(user=request.user),
        "alerts": selectors.alerts_visible(user=request.user),
        "poll_seconds": POLL_SECONDS,
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "monitoring/dashboard.html", _live_context(request))


@login_required
def live(request: HttpRequest) -> HttpResponse:
    """The polled fragment: progress, rates, backlog and alerts, re-rendered every few seconds."""
    return render(request, "monitoring/_live.html", _live_context(request))


@login_required
@require_POST
def alert_action(request: HttpRequest, public_id: str, action: str) -> HttpResponseRedirect:
    note = request.POST.get("note", "")
    try:
        if action == "akui":
            services.alert_acknowledge(acting_user=request.user, public_id=public_id, note=note)
        elif action == "selesai":
            services.alert_resolve(acting_user=request.user, public_id=public_id, note=note)
        else:
            raise Http404()
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except TepatError as exc:
        messages.error(request, exc.message)
    return redirect("monitoring:dashboard")
