"""Records of processing, the processor register and the retention schedule (staff pages for
admins, auditors and the DPO), their CSV/JSON exports, and the public privacy notice.

Everything shown is read from the apps' declarations (tepat.privacy.declarations): no personal
data, so these reads are not audited; the pages show any problem in the declarations on top.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tepat.accounts.models import Role
from tepat.core.declarations import (
    ACTION_LABEL,
    LEGAL_BASIS_ARTICLE,
    LEGAL_BASIS_LABEL,
    SPECIFIC_ARTICLE,
    SPECIFIC_LABEL,
    SUBJECT_LABEL,
    Action,
    DataCategory,
)
from tepat.privacy import records
from tepat.privacy.declarations import Register, collect, retention_overrides
from tepat.privacy.retention import last_purge


def reader_roles() -> frozenset[str]:
    """Who may read the records: admins, auditors and, where the role exists, the DPO."""
    roles = {Role.ADMIN, Role.AUDITOR}
    dpo = getattr(Role, "DPO", None)
    if dpo is not None:
        roles.add(dpo)
    return frozenset(str(r) for r in roles)


def can_read_records(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and (user.is_superuser or getattr(user, "role", "") in reader_roles())
    )


def _register_for(request: HttpRequest) -> Register:
    if not can_read_records(request.user):
        raise PermissionDenied(
            "Catatan pemrosesan hanya untuk admin, auditor dan Pejabat Pelindungan Data Pribadi "
            "/ the records of processing are for admins, auditors and the data protection officer"
        )
    return collect(strict=False)


def _category(cat: DataCategory) -> dict[str, Any]:
    specific = cat.specific
    return {
        "category": cat,
        "specific": SPECIFIC_LABEL[specific] if specific else "",
        "article": SPECIFIC_ARTICLE[specific] if specific else "",
    }


def _activities(register: Register) -> list[dict[str, Any]]:
    out = []
    for act in register.activities:
        out.append(
            {
                "activity": act,
                "basis_label": LEGAL_BASIS_LABEL[act.basis],
                "basis_article": LEGAL_BASIS_ARTICLE[act.basis],
                "subjects": [SUBJECT_LABEL[s] for s in act.subjects],
                "categories": [
                    _category(register.categories[k])
                    for k in act.categories
                    if k in register.categories
                ],
                "recipients": [
                    register.recipients[k] for k in act.recipients if k in register.recipients
                ],
                "retention": [
                    {"rule": r, "keep": records.keep_text(r), "action": ACTION_LABEL[r.action]}
                    for r in register.rules_for(act.models)
                ],
            }
        )
    return out


def _schedule(register: Register) -> list[dict[str, Any]]:
    return [
        {"rule": r, "keep": records.keep_text(r), "action": ACTION_LABEL[r.action],
         "sentence": records.rule_sentence(r)}
        for r in register.retention
    ]  # fmt: skip


@login_required
@require_GET
def records_page(request: HttpRequest) -> HttpResponse:
    register = _register_for(request)
    return render(
        request,
        "privacy/records.html",
        {"register": register, "activities": _activities(register), "tab": "catatan"},
    )


@login_required
@require_GET
def processors_page(request: HttpRequest) -> HttpResponse:
    register = _register_for(request)
    return render(
        request,
        "privacy/records_processors.html",
        {"register": register, "recipients": list(register.recipients.values()),
         "tab": "pemroses"},
    )  # fmt: skip


@login_required
@require_GET
def retention_page(request: HttpRequest) -> HttpResponse:
    register = _register_for(request)
    last = last_purge()
    counts = (last or {}).get("rules", {})
    rows = _schedule(register)
    for row in rows:
        row["last"] = counts.get(row["rule"].key)
    return render(
        request,
        "privacy/records_retention.html",
        {"register": register, "rows": rows, "last": last, "tab": "retensi"},
    )


@login_required
@require_GET
def export(request: HttpRequest, part: str, fmt: str) -> HttpResponse:
    register = _register_for(request)
    if part not in records.PARTS or fmt not in records.FORMATS:
        raise Http404
    body, content_type, name = records.export(register, part=part, fmt=fmt)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- the privacy notice (public) --------------------------------------------------------------


def _optional_url(name: str) -> str:
    """The URL of a page another part may provide, "" when it does not exist (yet)."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def controller() -> dict[str, str]:
    """Who is responsible, and whom to ask: deployment settings, with the defaults shown."""
    return {
        "name": str(
            getattr(settings, "TEPAT_PRIVACY_CONTROLLER", "")
            or _("Instansi sosial yang menjalankan Tepat di wilayah Anda (Dinas Sosial)")
        ),
        "contact": str(
            getattr(settings, "TEPAT_PRIVACY_CONTACT", "")
            or _("Pejabat Pelindungan Data Pribadi, melalui kantor Dinas Sosial atau desa")
        ),
    }


# The notice's body per language and deployment settings: it depends on nothing else (the
# declarations are code), and it is a public page that builds some hundred strings.
_NOTICE_BODIES: dict[tuple[str, ...], SafeString] = {}


def _notice_body() -> SafeString:
    who = controller()
    key = (
        get_language() or "",
        json.dumps(retention_overrides(), sort_keys=True),
        who["name"],
        who["contact"],
    )
    body = _NOTICE_BODIES.get(key)
    if body is None:
        register = collect(strict=False)
        schedule = _schedule(register)
        body = render_to_string(
            "privacy/notice_body.html",
            {
                "activities": _activities(register),
                "processors": [r for r in register.recipients.values() if r.role == "processor"],
                "public": [r for r in register.recipients.values() if r.role == "public"],
                "purged": [row for row in schedule if row["rule"].action != Action.KEEP],
                "kept": [row for row in schedule if row["rule"].action == Action.KEEP],
                "controller": who,
                "account_url": reverse("portal:account"),
                "complaint_url": reverse("grievances:complaint_new"),
                "rights_url": _optional_url("portal:rights"),
                "mydata_url": _optional_url("portal:mydata"),
            },
        )
        if len(_NOTICE_BODIES) >= 16:
            _NOTICE_BODIES.clear()
        _NOTICE_BODIES[key] = body
    return body


@require_GET
def notice(request: HttpRequest) -> HttpResponse:
    return render(request, "privacy/notice.html", {"body": _notice_body(), "nav": "privasi"})
