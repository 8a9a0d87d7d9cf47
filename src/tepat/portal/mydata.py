"""The "Data saya" page: the signed-in citizen's copy of everything Tepat holds about them and
their household (UU 27/2022 Art. 7 access, Art. 13 portability), as a page and as PDF, JSON and
CSV downloads (tepat.privacy.export builds it).

Only the session's own person: the page takes no id from the URL, so there is nothing to change
to reach another family. Every view and download is audited with the citizen as the subject
(`privacy.export_view`, `privacy.export`); each download also records that an access request was
answered (`privacy.access_answered`: the portal's self-served access needs no request in the
staff queue). Building the copy reads many tables, so it is limited per person per hour
(TEPAT_PRIVACY_EXPORT_PER_HOUR, default 20, page views and downloads together), on top of the
sign-in limits. Responses are never stored (`Cache-Control: no-store`): a shared phone's browser
cache must not keep a family's NIK and accounts, and file names say nothing about who.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from tepat.core import guard
from tepat.core.audit import audit_read, audit_record
from tepat.core.masking import mask_name
from tepat.portal.views import _citizen
from tepat.privacy import export

EXPORT_SCOPE = "privacy-export"


def _limit() -> int:
    return int(getattr(settings, "TEPAT_PRIVACY_EXPORT_PER_HOUR", 20))


def _admitted(person: Any) -> bool:
    return guard.hit(EXPORT_SCOPE, person.public_id, limit=_limit(), window_s=3600)


def _too_many(request: HttpRequest, person: Any) -> HttpResponse:
    response = render(
        request,
        "portal/mydata.html",
        {
            "me": mask_name(person.full_name),
            "error": _(
                "Salinan data sudah terlalu sering dibuka dalam satu jam ini. Coba lagi nanti."
            ),
            "nav": "akun",
        },
        status=429,
    )
    response["Retry-After"] = "3600"
    return response


@never_cache
@require_GET
def mydata(request: HttpRequest) -> HttpResponse:
    person = _citizen(request)
    if person is None:
        return redirect("portal:account_sign_in")
    if not _admitted(person):
        return _too_many(request, person)
    data = export.subject_export(person=person, requested_by=_("warga (portal)"))
    audit_read(
        actor=None,
        what="privacy.export_view",
        count=export.export_records(data),
        region_code=person.household.village_id,
        request=request,
        target_type="person",
        target_id=person.public_id,
        detail={"format": "html", "channel": "portal"},
    )
    return render(
        request,
        "portal/mydata.html",
        {
            "me": mask_name(person.full_name),
            "export_html": export.render_html(data),
            "nav": "akun",
        },
    )


@never_cache
@require_GET
def mydata_download(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in export.FORMATS:
        raise Http404
    person = _citizen(request)
    if person is None:
        return redirect("portal:account_sign_in")
    if not _admitted(person):
        return _too_many(request, person)
    extension, content_type, render_file = export.FORMATS[fmt]
    data = export.subject_export(person=person, requested_by=_("warga (portal)"))
    body = render_file(data)
    village = person.household.village_id
    audit_read(
        actor=None,
        what="privacy.export",
        count=export.export_records(data),
        region_code=village,
        request=request,
        target_type="person",
        target_id=person.public_id,
        detail={"format": fmt, "channel": "portal", "bytes": len(body)},
    )
    # The access request this download answers, as the record of processing sees it: asked
    # and answered at once, by the subject, through the portal.
    audit_record(
        actor=None,
        action="privacy.access_answered",
        target_type="person",
        target_id=person.public_id,
        region_code=village,
        request=request,
        detail={"channel": "portal", "format": fmt, "generated_at": data["generated_at"]},
    )
    response = HttpResponse(body, content_type=content_type)
    filename = export.export_filename(data, extension)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
