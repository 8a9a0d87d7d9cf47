"""The signed-in citizen's rights requests (UU 27/2022): file a correction, an objection to an
automated decision, a restriction or a deletion, about themselves only, and follow each one
with its status and its 3x24-hour deadline.

The subject of every request filed here is the person signed in; no form field names anyone
else (another member files for themselves, with their own NIK and code). Access needs no
request: the citizen downloads their data at once from "Data saya".
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods

from tepat.core.errors import NotFound, TepatError, ValidationFailed
from tepat.core.ids import new_public_id
from tepat.core.masking import mask_name
from tepat.core.netaddr import client_address
from tepat.grievances import limits
from tepat.portal import citizen
from tepat.portal.views import SESSION_CITIZEN
from tepat.privacy import selectors as rights
from tepat.privacy.models import KIND_RULES, Channel, ObjectionTarget, RequestKind
from tepat.privacy.services import PORTAL_KINDS, request_open

# What each right does, in the citizen's words, shown above its form.
KIND_HELP = {
    RequestKind.CORRECTION: _lazy(
        "Data Anda salah atau tidak lengkap? Tuliskan yang benar. Petugas memeriksa dan "
        "membetulkannya di data keluarga, dengan riwayat perubahan."
    ),
    RequestKind.OBJECTION: _lazy(
        "Peringkat desil dan pemilihan penerima bantuan dihitung oleh komputer dari data "
        "rumah Anda. Anda berhak meminta petugas meninjaunya sendiri."
    ),
    RequestKind.RESTRICTION: _lazy(
        "Data Anda disimpan tetapi tidak dipakai untuk keputusan baru. Selama dibatasi, Anda "
        "mungkin tidak terpilih untuk bantuan baru."
    ),
    RequestKind.DELETION: _lazy(
        "Data Anda dihapus bila tidak ada kewajiban hukum untuk menyimpannya. Setelah dihapus, "
        "Anda tidak dapat menerima bantuan melalui data ini."
    ),
}


def _person(request: HttpRequest) -> Any:
    ref = request.session.get(SESSION_CITIZEN)
    if not ref:
        return None
    try:
        return citizen.citizen_person(person_ref=ref)
    except NotFound:
        request.session.pop(SESSION_CITIZEN, None)
        return None


def rights_list(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    if person is None:
        return redirect("portal:account_sign_in")
    requests = rights.citizen_requests(person=person)
    return render(
        request,
        "portal/rights_list.html",
        {
            "me": mask_name(person.full_name),
            "rows": [(d, rights.time_left(d)) for d in requests],
            "kinds": [(k, RequestKind(k).label) for k in PORTAL_KINDS],
            "nav": "akun",
        },
    )


def _form_changes(post: Any) -> dict[str, str]:
    key, value = post.get("field", ""), post.get("value", "").strip()
    return {key: value} if key and value else {}


@require_http_methods(["GET", "POST"])
def rights_new(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    if person is None:
        return redirect("portal:account_sign_in")
    source = request.POST if request.method == "POST" else request.GET
    kind = source.get("jenis", "")
    if kind not in PORTAL_KINDS:
        return redirect("portal:rights")
    form: dict[str, str] = {"submission_key": new_public_id(24)}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form = {
            k: request.POST.get(k, "")
            for k in ("submission_key", "details", "field", "value", "objection_target")
        }
        try:
            limits.submission_admit(client_address(request))
            dsr, _created = request_open(
                kind=kind,
                person=person,
                channel=Channel.PORTAL,
                details=form["details"],
                requested_changes=_form_changes(request.POST),
                objection_target=form["objection_target"],
                submission_key=form["submission_key"],
            )
        except limits.RateLimited as exc:
            errors = {"form": exc.message.split(" / ")[0]}
            status = 429
        except ValidationFailed as exc:
            for p in exc.problems:
                if p.severity == "error":
                    field = p.field if p.field in _FORM_INPUTS else "value"
                    errors.setdefault(field, p.message.split(" / ")[0])
            status = 400
        except TepatError as exc:
            errors = {"form": exc.message.split(" / ")[0]}
            status = 400
        else:
            return redirect("portal:rights_detail", public_id=dsr.public_id)
    return render(
        request,
        "portal/rights_new.html",
        {
            "kind": kind,
            "kind_label": RequestKind(kind).label,
            "help": KIND_HELP[RequestKind(kind)],
            "rule": KIND_RULES[kind],
            "fields": rights.correctable_fields(),
            "targets": ObjectionTarget.choices,
            "form": form,
            "errors": errors,
            "nav": "akun",
        },
        status=status,
    )


# Problems about other fields (a correction's registry field) show at the value input.
_FORM_INPUTS = frozenset({"details", "objection_target", "kind", "subject"})


def rights_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    person = _person(request)
    if person is None:
        return redirect("portal:account_sign_in")
    try:
        dsr = rights.citizen_request_get(person=person, public_id=public_id)
    except NotFound:
        raise Http404 from None
    return render(
        request,
        "portal/rights_detail.html",
        {
            "d": dsr,
            "rule": KIND_RULES[dsr.kind],
            "time_left": rights.time_left(dsr),
            "met_deadline": rights.met_deadline(dsr),
            "history": rights.citizen_history(dsr),
            "requested": [(rights.field_label(k), v) for k, v in dsr.requested_changes.items()],
            "nav": "akun",
        },
    )
