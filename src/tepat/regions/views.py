"""Pages for regions: `<option>` lists for cascading province -> village selects (htmx)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseNotFound
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from tepat.core.errors import NotFound, TepatError
from tepat.regions import selectors

# Where the parent code may arrive: `?parent=` explicitly, or the name of the select that
# triggered the request (htmx sends a select's own value under its name), deepest first.
PARENT_PARAMS = ("parent", "district", "regency", "province")
BLANK_LABELS = {
    "province": _("— Pilih provinsi —"),
    "regency": _("— Pilih kabupaten/kota —"),
    "district": _("— Pilih kecamatan —"),
    "village": _("— Pilih desa/kelurahan —"),
}


@require_GET
@cache_control(public=True, max_age=3600)
def options(request: HttpRequest) -> HttpResponse:
    """`<option>` lines for the children of `?parent=` (provinces when it is empty).

    In a form: `<select name="province" hx-get="{% url 'regions:options' %}"
    hx-target="#id_regency">`; the regency select does the same for districts, and so on.
    `?selected=CODE` marks one option; `?blank=0` leaves out the "choose..." line.
    """
    parent = next((request.GET[p] for p in PARENT_PARAMS if request.GET.get(p, "").strip()), "")
    try:
        regions = list(selectors.region_children(parent or None))
        child_level = (
            selectors.CHILD_LEVEL[selectors.level_for_code(parent, field="parent")]
            if parent
            else "province"
        )
    except NotFound as exc:
        return HttpResponseNotFound(exc.message, content_type="text/plain; charset=utf-8")
    except TepatError as exc:
        return HttpResponseBadRequest(exc.message, content_type="text/plain; charset=utf-8")
    selected = request.GET.get("selected", "").replace(".", "").strip()
    return render(
        request,
        "regions/options.html",
        {
            "regions": regions,
            "selected": selected,
            "blank": request.GET.get("blank", "1") != "0" and child_level is not None,
            "blank_label": str(BLANK_LABELS.get(child_level or "", "")),
        },
    )
