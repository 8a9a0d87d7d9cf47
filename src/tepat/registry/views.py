"""Registry pages: search, household, person. Views parse input, call selectors, render."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from tepat.accounts.scoping import can_view_full_record
from tepat.core.errors import NotFound, PermissionDenied, TepatError
from tepat.registry import labels, selectors
from tepat.registry.choices import Relationship


def _region_names(codes: set[str]) -> dict[str, str]:
    from tepat.regions.models import Region

    return dict(Region.objects.filter(code__in=codes).values_list("code", "name"))


LEVELS = ("province", "regency", "district", "village")


def _region_pickers(request: HttpRequest) -> tuple[str, list[dict[str, object]]]:
    """The cascading region selects: chosen codes, and the options of each level, each
    limited to the user's regions (and the way down to them).

    The deepest chosen level is the search's region; `?region_code=` (links, the API's
    spelling) is honoured when no select was used.
    """
    from tepat.regions.selectors import region_children

    chosen = {lvl: request.GET.get(lvl, "").replace(".", "").strip() for lvl in LEVELS}
    pickers: list[dict[str, object]] = []
    parent: str | None = None
    for lvl in LEVELS:
        if lvl != "province" and not parent:
            pickers.append({"level": lvl, "options": [], "selected": ""})
            continue
        options = selectors.regions_in_scope(
            request.user, region_children(parent).values_list("code", "name")
        )
        selected = chosen[lvl] if chosen[lvl] in {code for code, _ in options} else ""
        pickers.append({"level": lvl, "options": options, "selected": selected})
        parent = selected or None
    deepest = next((str(p["selected"]) for p in reversed(pickers) if p["selected"]), "")
    return deepest or request.GET.get("region_code", "").strip(), pickers


def _page_number(raw: str) -> int | None:
    """`?page=` as a number; None when it is not one (the selector says what is allowed)."""
    raw = raw.strip()
    if not raw:
        return 1
    if not raw.isdigit() or len(raw) > 6:
        return None
    return int(raw)


@login_required
@require_http_methods(["GET", "HEAD"])
def search(request: HttpRequest) -> HttpResponse:
    region_code, pickers = _region_pickers(request)
    q = {
        "nik": request.GET.get("nik", "").strip(),
        "name": request.GET.get("name", "").strip(),
        "region_code": region_code,
    }
    page = _page_number(request.GET.get("page", ""))
    found: selectors.SearchPage | None = None
    results: list[selectors.PersonRow] = []
    error = ""
    searched = any(q.values())
    if searched:
        try:
            if page is None:
                raise TepatError(
                    gettext("Nomor halaman tidak valid / invalid page number"), field="page"
                )
            found = selectors.person_search_page(
                user=request.user,
                nik=q["nik"],
                name=q["name"],
                region_code=q["region_code"],
                page=page,
            )
        except TepatError as exc:
            error = exc.message
        if found is not None:
            results = found.rows
        selectors.audit_read(
            user=request.user,
            request=request,
            action="registry.search",
            detail={
                **selectors.search_audit_detail(**q, results=len(results)),
                "page": found.page if found else 0,
            },
        )
    names = _region_names({r.village_code for r in results})
    params = {k: str(v) for k, v in request.GET.items() if k != "page" and str(v).strip()}
    htmx = getattr(request, "htmx", False)
    template = "registry/_results.html" if htmx else "registry/search.html"
    return render(
        request,
        template,
        {
            "q": q,
            "results": results,
            "found": found,
            "previous_url": _page_url(params, found.page - 1) if found and found.page > 1 else "",
            "next_url": _page_url(params, found.page + 1) if found and found.has_more else "",
            "rows": [
                (r, names.get(r.village_code, r.village_code), Relationship(r.relationship).label)
                for r in results
            ],
            "error": error,
            "searched": searched,
            "pickers": pickers,
            # Paging through htmx: focus goes to the new page of results.
            "paged": htmx and "page" in request.GET,
        },
    )


def _page_url(params: dict[str, str], page: int) -> str:
    return f"{reverse('registry:search')}?{urlencode({**params, 'page': page})}"


@login_required
@require_http_methods(["GET", "HEAD"])
def search_region_options(request: HttpRequest) -> HttpResponse:
    """The search form's cascading selects (htmx): the `<option>`s of the level below the
    region a select named, limited to the user's regions. Region names are public, yet a
    picker offering regions the user cannot search would only ever find nothing."""
    from tepat.regions.selectors import region_children

    parent = next(
        (
            request.GET[lvl].replace(".", "").strip()
            for lvl in ("district", "regency", "province")
            if request.GET.get(lvl, "").strip()
        ),
        "",
    )
    try:
        children = region_children(parent or None).values_list("code", "name")
        options = selectors.regions_in_scope(request.user, children)
    except TepatError:
        options = []
    return render(request, "registry/_region_options.html", {"options": options})


@login_required
def household(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        h = selectors.household_get(user=request.user, public_id=public_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    view = selectors.household_view(household=h)
    selectors.audit_read(
        user=request.user,
        request=request,
        action="household.view",
        target_type="household",
        target_id=h.public_id,
        region_code=h.village_id,
    )
    as_of_raw = request.GET.get("as_of", "").strip()
    as_of = None
    as_of_error = ""
    if as_of_raw:
        try:
            day = dt.date.fromisoformat(as_of_raw)
            moment = timezone.make_aware(dt.datetime.combine(day, dt.time.max))
            as_of = selectors.household_as_of(household=h, at=moment) or {"missing": True}
            if "members" in as_of:
                as_of["members"] = [labels.member_labelled(m) for m in as_of["members"]]
        except ValueError:
            as_of_error = gettext(
                "Tanggal tidak valid: tulis sebagai TTTT-BB-HH, misalnya 2025-03-31."
            )
    from tepat.regions.models import Region

    village = Region.objects.filter(code=h.village_id).first()
    ancestors = []
    code = h.village_id
    for length in (2, 4, 6):
        r = Region.objects.filter(code=code[:length]).first()
        if r:
            ancestors.append(r)
    return render(
        request,
        "registry/household.html",
        {
            "h": h,
            "view": view,
            "village": village,
            "ancestors": ancestors,
            "history": labels.history_labelled(selectors.household_history(household=h)),
            "as_of": as_of,
            "as_of_raw": as_of_raw,
            "as_of_error": as_of_error,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def person(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        p = selectors.person_get(user=request.user, public_id=public_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    view = selectors.household_view(household=p.household)
    member = next(m for m in view.members if m.person.pk == p.pk)
    selectors.audit_read(
        user=request.user,
        request=request,
        action="person.view",
        target_type="person",
        target_id=p.public_id,
        region_code=p.household.village_id,
    )
    revealed = None
    error = ""
    if request.method == "POST":
        try:
            revealed = selectors.person_reveal(
                user=request.user,
                person=p,
                request=request,
                purpose=request.POST.get("purpose", ""),
            )
        except (PermissionDenied, TepatError) as exc:
            error = exc.message
    return render(
        request,
        "registry/person.html",
        {
            "p": p,
            "member": member,
            "revealed": revealed,
            "error": error,
            "can_reveal": can_view_full_record(request.user),
        },
    )
